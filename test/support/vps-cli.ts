import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The `vps` a user's npm links: cli/bin/vps.js, which runs the built cli/dist/main.js. */
export const CLI_BIN = join(import.meta.dirname, "../../cli/bin/vps.js");
export const CLI_DIST = join(import.meta.dirname, "../../cli/dist");

/** Builds the SDK and the CLI to JavaScript once (npm run cli:build), as a user's `npm install` does. */
export function buildCli(): void {
  execFileSync("npm", ["run", "cli:build"], { cwd: join(import.meta.dirname, "../.."), stdio: "pipe" });
}

export interface VpsRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A user's shell: its own HOME and config file, and the environment they set. */
export interface VpsShell {
  home: string;
  config: string;
  env: Record<string, string>;
  vps(args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<VpsRun>;
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
      return new Promise((resolve) => {
        const child = execFile(
          process.execPath,
          [CLI_BIN, ...args],
          { env: { ...base, ...options.env }, timeout: 60_000 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        child.stdin?.end(options.input ?? "");
      });
    },
  };
}
