import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { buildCli } from "../support/vps-cli.ts";

const ROOT = join(import.meta.dirname, "../..");
const NODE_20 = "/usr/bin/node";

/** Why the install test is skipped here: it proves the CLI on the system's Node 20 (Debian's nodejs) and npm. */
function node20Skip(): string | false {
  if (!existsSync(NODE_20) || !existsSync("/usr/bin/npm")) return `no ${NODE_20} and /usr/bin/npm`;
  const version = execFileSync(NODE_20, ["--version"], { encoding: "utf8" }).trim();
  return version.startsWith("v20.") ? false : `${NODE_20} is ${version}, not Node 20`;
}

/** Runs a command from the clone as a user's shell would, with only the system's Node 20 and npm on PATH. */
function run(
  file: string,
  args: string[],
  home: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      file,
      args,
      { cwd: ROOT, env: { PATH: "/usr/bin:/bin", HOME: home }, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    ),
  );
}

describe("installing vps as the README says", { skip: node20Skip() }, () => {
  before(() => buildCli());
  const { version } = JSON.parse(readFileSync(join(ROOT, "cli/package.json"), "utf8")) as { version: string };

  it("npm install -g ./cli (a link to the clone, no download) puts a vps on PATH that runs on Node 20", async () => {
    const home = mkdtempSync(join(tmpdir(), "vps-install-"));
    const prefix = join(home, "global");
    const installed = await run(
      "npm",
      ["install", "-g", "./cli", "--prefix", prefix, "--offline", "--no-audit", "--no-fund"],
      home,
    );
    assert.equal(installed.code, 0, installed.stderr);
    const vps = join(prefix, "bin", "vps");
    const shown = await run(vps, ["--version"], home);
    assert.deepEqual([shown.code, shown.stdout, shown.stderr], [0, `${version}\n`, ""]);
    const help = await run(vps, ["--help"], home);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: vps \[options\] \[command\]\n/);
    assert.match(help.stdout, /\n {2}server\b/);
  });

  it("npx vps runs the clone's vps (--no: never one from the registry)", async () => {
    const home = mkdtempSync(join(tmpdir(), "vps-npx-"));
    const shown = await run("npx", ["--no", "--", "vps", "--version"], home);
    assert.deepEqual([shown.code, shown.stdout], [0, `${version}\n`], shown.stderr);
  });
});
