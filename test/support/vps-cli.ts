import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The `vps` a user's npm links: cli/bin/vps.js, which runs the built cli/dist/main.js. */
export const CLI_BIN = join(import.meta.dirname, "../../cli/bin/vps.js");
export const CLI_DIST = join(import.meta.dirname, "../../cli/dist");

const ROOT = join(import.meta.dirname, "../..");

/** The newest modification time of the files below `dir` (0 when it does not exist). */
function newest(dir: string, pick: (a: number, b: number) => number, start: number): number {
  if (!existsSync(dir)) return 0;
  let found = start;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found = pick(found, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return found;
}

/**
 * Builds the SDK and the CLI to JavaScript (npm run cli:build), as a user's `npm install` does, unless the build is
 * newer than their sources. Test files run side by side: one build at a time (a lock folder), and none that would
 * rewrite dist/ under a `vps` another file is running when it is up to date already.
 */
export function buildCli(): void {
  const lock = join(
    tmpdir(),
    `vps-cli-build-${createHash("sha256").update(ROOT).digest("hex").slice(0, 12)}`,
  );
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || Date.now() > deadline) throw err;
      // A lock older than any build is one a killed run left.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) {
        rmdirSync(lock, { recursive: false });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    const sources = Math.max(
      newest(join(ROOT, "cli/src"), Math.max, 0),
      newest(join(ROOT, "sdk/src"), Math.max, 0),
      statSync(join(ROOT, "cli/tsconfig.json")).mtimeMs,
      statSync(join(ROOT, "sdk/tsconfig.json")).mtimeMs,
    );
    const built = Math.min(
      newest(join(ROOT, "cli/dist"), Math.min, Number.POSITIVE_INFINITY),
      newest(join(ROOT, "sdk/dist"), Math.min, Number.POSITIVE_INFINITY),
    );
    if (built === 0 || built === Number.POSITIVE_INFINITY || built < sources) {
      execFileSync("npm", ["run", "cli:build"], { cwd: ROOT, stdio: "pipe" });
    }
  } finally {
    rmdirSync(lock);
  }
}

export interface VpsRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Asserts that `vps` exited 0, its stderr the message if not. */
export function ok(run: VpsRun): void {
  assert.equal(run.code, 0, run.stderr);
}

/** A user's shell: its own HOME and config file, and the environment they set. */
export interface VpsShell {
  home: string;
  config: string;
  env: Record<string, string>;
  vps(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<VpsRun>;
  /** Runs `vps` on a pseudo-terminal (util-linux `script`): `stdout` is what the terminal shows, both streams. */
  onTerminal(args: string[], options?: { env?: Record<string, string> }): Promise<VpsRun>;
}

/** Why terminal tests are skipped here (no util-linux `script` to give `vps` a pseudo-terminal), or false. */
export function terminalSkip(): string | false {
  try {
    execFileSync("script", ["-qec", "true", "/dev/null"], { stdio: "ignore" });
    return false;
  } catch {
    return "no util-linux script on PATH to run vps on a pseudo-terminal (apt-get install bsdutils)";
  }
}

/**
 * Why a test of `shell`'s completion is skipped here (the shell is not installed), or false. With
 * VPS_REQUIRE_SHELLS=1 (as in CI, where scripts/install-test-packages.sh installs zsh and fish) it is an error.
 */
export function shellSkip(shell: "zsh" | "fish"): string | false {
  try {
    execFileSync("which", [shell], { stdio: "ignore" });
    return false;
  } catch {
    const reason = `no ${shell} on PATH (apt-get install ${shell}, or bash scripts/install-test-packages.sh)`;
    if (process.env.VPS_REQUIRE_SHELLS === "1") throw new Error(reason);
    return reason;
  }
}

const shellQuote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

function run(file: string, args: string[], env: Record<string, string>, input?: string): Promise<VpsRun> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs the built `vps` in a child process (async: the service under test runs in this one). */
export function vpsShell(env: Record<string, string> = {}): VpsShell {
  const home = mkdtempSync(join(tmpdir(), "vps-cli-home-"));
  const config = join(home, ".config", "vps", "config.toml");
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: home, ...env };
  return {
    home,
    config,
    env: base,
    vps(args, options = {}) {
      return run(process.execPath, [CLI_BIN, ...args], { ...base, ...options.env }, options.input ?? "");
    },
    onTerminal(args, options = {}) {
      const command = [process.execPath, CLI_BIN, ...args].map(shellQuote).join(" ");
      // Nothing is typed, and the input stays open as a terminal's does.
      const env = { ...base, SHELL: "/bin/sh", TERM: "xterm-256color", ...options.env };
      return run("script", ["-qec", command, "/dev/null"], env);
    },
  };
}
