import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** A file the pages load, read once at start; its URL names a digest of its content, so it can be cached for good. */
export interface Asset {
  body: Buffer;
  type: string;
  url: string;
}

const require = createRequire(import.meta.url);

function asset(name: string, path: string, type: string): Asset {
  const body = readFileSync(path);
  return { body, type, url: `/assets/${name}?v=${hash("sha256", body, "hex").slice(0, 12)}` };
}

const CSS = "text/css; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const ours = (name: string) => fileURLToPath(new URL(`./assets/${name}`, import.meta.url));

/**
 * Our stylesheet and scripts, and htmx, xterm.js and uPlot from their npm packages: nothing comes from another
 * site.
 */
export const ASSETS: Record<string, Asset> = {
  "console.css": asset("console.css", ours("console.css"), CSS),
  "htmx.min.js": asset("htmx.min.js", require.resolve("htmx.org/dist/htmx.min.js"), JS),
  "xterm.css": asset("xterm.css", require.resolve("@xterm/xterm/css/xterm.css"), CSS),
  "xterm.js": asset("xterm.js", require.resolve("@xterm/xterm/lib/xterm.js"), JS),
  "copy-button.js": asset("copy-button.js", ours("copy-button.js"), JS),
  "print-button.js": asset("print-button.js", ours("print-button.js"), JS),
  "serial-console.js": asset("serial-console.js", ours("serial-console.js"), JS),
  "uplot.css": asset("uplot.css", require.resolve("uplot/dist/uPlot.min.css"), CSS),
  "uplot.js": asset("uplot.js", require.resolve("uplot/dist/uPlot.iife.min.js"), JS),
  "usage-graphs.js": asset("usage-graphs.js", ours("usage-graphs.js"), JS),
};

export function assetUrl(name: keyof typeof ASSETS): string {
  const found = ASSETS[name];
  if (!found) throw new Error(`no asset ${name}`);
  return found.url;
}
