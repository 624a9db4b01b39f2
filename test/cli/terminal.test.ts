import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { buildCli, CLI_BIN, terminalSkip, type VpsShell, vpsShell } from "../support/vps-cli.ts";

const CREATE = ["--plan", "Standard VPS", "--os", "5", "--location", "us-west"];
/** What the terminal got, its escape character shown as `ESC`. */
const shown = (run: { stdout: string }) => run.stdout.replaceAll("\u001b", "ESC");
/** SGR sequences (colour, bold); `ESC[K`, which clears the progress line, is not one. */
const COLOUR = /ESC\[[0-9;]*m/;
const PROGRESS = (label: string) => new RegExp(`\\r\\S* ${label} \\(action \\d+\\)… \\d+sESC\\[K`);

describe("vps on a terminal and piped", { skip: terminalSkip() }, () => {
  let t: TestApp;
  before(async () => {
    buildCli();
    // Slow sim steps: an action lasts long enough for the progress line to be drawn more than once.
    t = await startTestApp({ VPS_SIM_DELAY_MS: "300" });
  });
  after(() => t.close());

  async function customer(): Promise<VpsShell> {
    const account = await t.newAccount("50.00");
    const token = (account as unknown as { token: string }).token;
    return vpsShell({ VPS_URL: t.url, VPS_TOKEN: token });
  }

  it("shows a progress line while it waits and colours the table on a terminal", async () => {
    const shell = await customer();
    const run = await shell.onTerminal(["server", "create", "--name", "web-1", ...CREATE]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(shown(run), PROGRESS("creating web-1"));
    assert.match(shown(run), /\rESC\[KESC\[1mIDESC\[22m/, "the line is cleared before the result");
    assert.match(shown(run), /ESC\[32mactiveESC\[39m/);

    const stop = await shell.vps(["server", "stop", "web-1", "--no-wait"]);
    const waited = await shell.onTerminal(["action", "wait", stop.stdout.trim()]);
    assert.equal(waited.code, 0, waited.stdout);
    assert.match(shown(waited), PROGRESS(`action ${stop.stdout.trim()}`));
    assert.match(shown(waited), /ESC\[32msuccessESC\[39m/);
  });

  it("shows the progress line without colour on a terminal when NO_COLOR is set", async () => {
    const shell = await customer();
    const run = await shell.onTerminal(["server", "create", "--name", "plain", ...CREATE], {
      env: { NO_COLOR: "1" },
    });
    assert.equal(run.code, 0, run.stdout);
    assert.match(shown(run), PROGRESS("creating plain"));
    assert.doesNotMatch(shown(run), COLOUR);
    assert.match(shown(run), /\rESC\[KID\s+NAME\s+STATUS.*\r\n\d+\s+plain\s+active\s/);
  });

  it("says once what it waits for, with no escape codes, on a terminal that cannot rewrite a line (TERM=dumb)", async () => {
    const shell = await customer();
    const run = await shell.onTerminal(["server", "create", "--name", "dumb", ...CREATE], {
      env: { TERM: "dumb" },
    });
    assert.equal(run.code, 0, run.stdout);
    assert.doesNotMatch(shown(run), /ESC/);
    assert.match(
      run.stdout,
      /^creating dumb \(action \d+\)…\r\nID\s+NAME\s+STATUS.*\r\n\d+\s+dumb\s+active\s/,
    );
  });

  it("prints neither progress nor colour when piped", async () => {
    const shell = await customer();
    const run = await shell.vps(["server", "create", "--name", "piped", ...CREATE]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.doesNotMatch(shown(run), /ESC/);
    assert.match(shown(run), /^ID\s+NAME\s+STATUS.*\n\d+\s+piped\s+active\s/);
  });

  it("stops quietly when what reads its output goes away (vps --help | head -1)", async () => {
    const child = spawn(process.execPath, [CLI_BIN, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // the reader is gone before vps writes a byte
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    assert.equal(stderr, "");
    assert.equal(code, 0);
  });
});
