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

/** Our stylesheet and scripts, and htmx from its npm package: nothing comes from another site. */
export const ASSETS: Record<string, Asset> = {
  "console.css": asset(
    "console.css",
    fileURLToPath(new URL("./assets/console.css", import.meta.url)),
    "text/css; charset=utf-8",
  ),
  "copy-button.js": asset(
    "copy-button.js",
    fileURLToPath(new URL("./assets/copy-button.js", import.meta.url)),
    "text/javascript; charset=utf-8",
  ),
  "htmx.min.js": asset(
    "htmx.min.js",
    require.resolve("htmx.org/dist/htmx.min.js"),
    "text/javascript; charset=utf-8",
  ),
};

export function assetUrl(name: keyof typeof ASSETS): string {
  const found = ASSETS[name];
  if (!found) throw new Error(`no asset ${name}`);
  return found.url;
}
