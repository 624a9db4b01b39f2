import { execFileSync } from "node:child_process";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium on PATH (scripts/install-test-packages.sh installs it), or undefined. */
function chromiumPath(): string | undefined {
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const executablePath = chromiumPath();

/**
 * Why browser tests are skipped here (no chromium), or false. With VPS_REQUIRE_BROWSER=1 (as in CI) a missing
 * chromium is an error, not a skip.
 */
export function browserSkip(): string | false {
  if (executablePath) return false;
  const reason = "no chromium on PATH (apt-get install chromium, or bash scripts/install-test-packages.sh)";
  if (process.env.VPS_REQUIRE_BROWSER === "1") throw new Error(reason);
  return reason;
}

/** A headless chromium driven by Playwright. */
export async function launchBrowser(): Promise<Browser> {
  if (!executablePath) throw new Error("no chromium on PATH");
  return chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
}
