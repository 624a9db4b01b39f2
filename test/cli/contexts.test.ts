import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { ADMIN_TOKEN, OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { buildCli, vpsShell } from "../support/vps-cli.ts";

describe("vps context", () => {
  let t: TestApp;
  before(async () => {
    buildCli();
    t = await startTestApp();
  });
  after(() => t.close());

  it("keeps a context's URL and tokens in a file only its owner can read, and uses it", async () => {
    const shell = vpsShell();
    const created = await shell.vps(["context", "create", "local", "--url", t.url, "--token-stdin"], {
      input: `${OWNER_TOKEN}\n`,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(statSync(shell.config).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(shell.config)).mode & 0o777, 0o700);
    assert.match(readFileSync(shell.config, "utf8"), /current_context = "local"/);

    const account = await shell.vps(["account", "describe", "-o", "json"]);
    assert.equal(account.code, 0, account.stderr);
    assert.equal(JSON.parse(account.stdout).balance, "100.00");
  });

  it("lists and shows contexts with only a prefix of each token", async () => {
    const shell = vpsShell();
    await shell.vps(["context", "create", "a", "--url", t.url, "--token", OWNER_TOKEN]);
    await shell.vps(["context", "create", "b", "--url", "http://127.0.0.1:1", "--admin-token", ADMIN_TOKEN]);
    const listed = await shell.vps(["context", "list", "-o", "json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      JSON.parse(listed.stdout).map((c: { name: string; active: string }) => [c.name, c.active]),
      [
        ["a", ""],
        ["b", "*"],
      ],
    );
    const table = await shell.vps(["context", "list"]);
    assert.match(table.stdout, /^ACTIVE\s+NAME\s+URL/);
    for (const output of [listed.stdout, table.stdout]) {
      assert.ok(!output.includes(OWNER_TOKEN), "the API token is never printed");
      assert.ok(!output.includes(ADMIN_TOKEN), "the admin token is never printed");
    }
    const shown = await shell.vps(["context", "show", "a", "-o", "yaml"]);
    assert.equal(parse(shown.stdout).token, `${OWNER_TOKEN.slice(0, 6)}…`);
  });

  it("switches with use and --context, deletes, and lets VPS_URL and VPS_TOKEN override the file", async () => {
    const shell = vpsShell();
    await shell.vps(["context", "create", "good", "--url", t.url, "--token", OWNER_TOKEN]);
    await shell.vps(["context", "create", "dead", "--url", "http://127.0.0.1:1", "--token", "nope"]);
    const unreachable = await shell.vps(["account", "describe"]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^error: cannot reach the service: .*\(network_error\)/);

    assert.equal((await shell.vps(["account", "describe", "--context", "good"])).code, 0);
    const overridden = await shell.vps(["account", "describe"], {
      env: { VPS_URL: t.url, VPS_TOKEN: OWNER_TOKEN },
    });
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.equal((await shell.vps(["context", "use", "good"])).code, 0);
    assert.equal((await shell.vps(["account", "describe"])).code, 0);

    assert.equal((await shell.vps(["context", "delete", "good"])).code, 0);
    const none = await shell.vps(["account", "describe"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /\(no_context\)/);
    const unknown = await shell.vps(["server", "list", "--context", "good"]);
    assert.match(unknown.stderr, /no context "good".*\(unknown_context\)/);
  });

  it("runs with no file at all from VPS_URL and VPS_TOKEN, and refuses a bad token with the API's code", async () => {
    const shell = vpsShell({ VPS_URL: t.url, VPS_TOKEN: "wrong-token" });
    const refused = await shell.vps(["server", "list"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .+ \(unauthorized\)\n$/);
    assert.equal(refused.stdout, "");
  });

  it("refuses a usage error with status 2", async () => {
    const shell = vpsShell();
    const result = await shell.vps(["context", "create", "x", "--url", t.url]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /give a token/);
    assert.equal((await shell.vps(["server", "frobnicate"])).code, 2);
    assert.equal((await shell.vps(["server", "list", "-o", "xml"])).code, 2);
  });
});
