import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN_TOKEN, OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { buildCli, ok, vpsShell } from "../support/vps-cli.ts";

describe("vps admin: operators, invitations, an account's tokens, host credentials and migrations", () => {
  let t: TestApp;
  before(async () => {
    buildCli();
    t = await startTestApp();
  });
  after(() => t.close());

  const operator = () => vpsShell({ VPS_URL: t.url, VPS_ADMIN_TOKEN: ADMIN_TOKEN });

  it("grants and revokes the operator role, invites an account and issues and revokes its tokens", async () => {
    const shell = operator();
    ok(await shell.vps(["admin", "account", "create", "--email", "bob@example.com"]));
    const granted = await shell.vps([
      "admin",
      "account",
      "operator",
      "grant",
      "bob@example.com",
      "-o",
      "json",
    ]);
    ok(granted);
    assert.equal(JSON.parse(granted.stdout).operator, true);
    ok(await shell.vps(["admin", "account", "operator", "revoke", "bob@example.com"]));
    const bob = JSON.parse(
      (await shell.vps(["admin", "account", "describe", "bob@example.com", "-o", "json"])).stdout,
    );
    assert.equal(bob.operator, false);

    const invitation = await shell.vps(["admin", "account", "invite", "bob@example.com", "-o", "json"]);
    ok(invitation);
    assert.match(JSON.parse(invitation.stdout).url, /\/invite\/\S+$/);

    const issued = await shell.vps([
      "admin",
      "account",
      "token",
      "create",
      "bob@example.com",
      "--name",
      "ci",
      "-o",
      "json",
    ]);
    ok(issued);
    const token = JSON.parse(issued.stdout);
    const asBob = vpsShell({ VPS_URL: t.url, VPS_TOKEN: token.api_token });
    assert.equal(JSON.parse((await asBob.vps(["account", "describe", "-o", "json"])).stdout).id, bob.id);
    ok(await shell.vps(["admin", "account", "token", "delete", "bob@example.com", String(token.id)]));
    const refused = await asBob.vps(["account", "describe"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\(unauthorized\)\n$/);
  });

  it("revokes a host's credentials and asks for a server's migration by id", async () => {
    const shell = operator();
    ok(await shell.vps(["admin", "host", "create", "hv-x", "--location", "us-west"]));
    const revoked = await shell.vps(["admin", "host", "revoke-credentials", "hv-x", "-o", "json"]);
    ok(revoked);
    assert.deepEqual(JSON.parse(revoked.stdout), { revoked: 0 });

    const customer = vpsShell({ VPS_URL: t.url, VPS_TOKEN: OWNER_TOKEN });
    const server = JSON.parse(
      (
        await customer.vps([
          "server",
          "create",
          "--name",
          "m1",
          "--plan",
          "Standard VPS",
          "--os",
          "5",
          "--location",
          "us-west",
          "-o",
          "json",
        ])
      ).stdout,
    );
    // hv-x never joined: it is no target, so the API refuses the move with its code.
    const moved = await shell.vps(["admin", "server", "migrate", String(server.id), "--to", "hv-x"]);
    assert.equal(moved.code, 1);
    assert.match(moved.stderr, /^error: .+ \(no_capacity\)\n$/);
    const missing = await shell.vps(["admin", "migration", "describe", "999999"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\(not_found\)\n$/);
    const usage = await shell.vps(["admin", "server", "migrate", "web-1"]);
    assert.equal(usage.code, 2);
  });
});
