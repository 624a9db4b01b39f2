import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startAppWithReceiver } from "../support/app-with-receiver.ts";
import { eventually } from "../support/client.ts";
import type { TestApp } from "../support/test-app.ts";
import { buildCli, ok, type VpsShell, vpsShell } from "../support/vps-cli.ts";
import { signatureVerifies, type WebhookReceiver } from "../support/webhook-receiver.ts";

describe("vps webhook", () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    buildCli();
    ({ t, receiver } = await startAppWithReceiver({ VPS_WEBHOOK_TIMEOUT_MS: "5000" }));
  });
  after(() => t?.close());

  async function customer(): Promise<VpsShell> {
    const account = await t.newAccount();
    return vpsShell({ VPS_URL: t.url, VPS_TOKEN: (account as unknown as { token: string }).token });
  }
  const json = async (shell: VpsShell, args: string[]) => {
    const run = await shell.vps([...args, "-o", "json"]);
    ok(run);
    return JSON.parse(run.stdout);
  };

  it("creates an endpoint and shows its signing secret once, on stdout, in a table and in JSON", async () => {
    const shell = await customer();
    const created = await shell.vps([
      "webhook",
      "create",
      "--url",
      receiver.url("/table"),
      "--events",
      "action.finished,balance.low",
      "--description",
      "alerts",
    ]);
    ok(created);
    const [table, secretPart] = created.stdout.split("\n\n");
    assert.match(
      table ?? "",
      /^ID\s+URL\s+EVENTS\s+ENABLED\s+DISABLED_REASON\n\d+\s+http:\/\/127\.0\.0\.1:\d+\/table\s+/,
    );
    assert.match(table ?? "", /action\.finished,balance\.low\s+true\s+-$/);
    assert.match(
      secretPart ?? "",
      /^Signing secret \(shown only now: keep it to verify webhook-signature\):\nwhsec_[A-Za-z0-9+/]{43}=\n$/,
    );
    assert.equal(created.stdout.match(/whsec_/g)?.length, 1);
    assert.equal(created.stderr, "");

    const hook = await json(shell, [
      "webhook",
      "create",
      "--url",
      receiver.url("/json"),
      "--events",
      "balance.low",
    ]);
    assert.match(hook.secret, /^whsec_/);
    assert.deepEqual([hook.url, hook.events, hook.enabled], [receiver.url("/json"), ["balance.low"], true]);

    const listed = await shell.vps(["webhook", "list"]);
    ok(listed);
    assert.equal(listed.stdout.trimEnd().split("\n").length, 3, "a header and two endpoints");
    assert.ok(!listed.stdout.includes("whsec_"), "the list never shows a secret");
    const described = await json(shell, ["webhook", "describe", receiver.url("/table")]);
    assert.equal(described.description, "alerts", "an endpoint is found by its URL");
    assert.equal(described.secret, undefined);
  });

  it("updates, disables, enables, pings, lists deliveries, rotates the secret and deletes an endpoint", async () => {
    const shell = await customer();
    const created = await json(shell, [
      "webhook",
      "create",
      "--url",
      receiver.url("/life"),
      "--events",
      "action.finished",
    ]);
    const id = String(created.id);

    const updated = await json(shell, [
      "webhook",
      "update",
      id,
      "--events",
      "server.status_changed,backup.finished",
      "--description",
      "ops",
    ]);
    assert.deepEqual(
      [updated.events.toSorted(), updated.description],
      [["backup.finished", "server.status_changed"], "ops"],
    );
    const nothing = await shell.vps(["webhook", "update", id]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /\(invalid_input\)\n$/);
    const badEvent = await shell.vps(["webhook", "update", id, "--events", "server.deleted"]);
    assert.equal(badEvent.code, 2);

    const disabled = await json(shell, ["webhook", "disable", id]);
    assert.equal(disabled.enabled, false);
    const shown = await shell.vps(["webhook", "describe", id, "--columns", "id,enabled,disabled_reason"]);
    assert.match(shown.stdout, new RegExp(`^ID\\s+ENABLED\\s+DISABLED_REASON\\n${id}\\s+false\\s+\\S+`));
    assert.equal((await json(shell, ["webhook", "enable", id])).enabled, true);

    const ping = await json(shell, ["webhook", "ping", id]);
    assert.ok(Number.isInteger(ping.delivery_id));
    const [first] = await eventually(async () =>
      receiver.to("/life").length ? receiver.to("/life") : undefined,
    );
    assert.ok(first);
    assert.equal(first.json.type, "ping");
    assert.ok(signatureVerifies(created.secret, first), "signed with the secret create showed");

    const deliveries = await eventually(async () => {
      const list = await json(shell, ["webhook", "deliveries", id]);
      return list[0]?.status === "succeeded" ? list : undefined;
    });
    assert.deepEqual(
      deliveries.map((d: { id: number }) => d.id),
      [ping.delivery_id],
    );
    assert.equal(deliveries[0].attempts[0].status_code, 200);
    const table = await shell.vps(["webhook", "deliveries", id]);
    ok(table);
    assert.match(table.stdout, new RegExp(`\\n${ping.delivery_id}\\s+ping\\s+succeeded\\s+200\\s+`));

    const rotated = await shell.vps(["webhook", "rotate-secret", id]);
    ok(rotated);
    const secret = /\n(whsec_\S+)\n$/.exec(rotated.stdout)?.[1] ?? "";
    assert.ok(secret && secret !== created.secret, rotated.stdout);
    ok(await shell.vps(["webhook", "ping", id]));
    const second = await eventually(async () => receiver.to("/life")[1]);
    assert.ok(signatureVerifies(secret, second), "the rotated secret signs what follows");
    assert.ok(!signatureVerifies(created.secret, second));

    const deleted = await shell.vps(["webhook", "delete", id]);
    ok(deleted);
    assert.equal(deleted.stderr, `webhook ${id} deleted\n`);
    const gone = await shell.vps(["webhook", "describe", id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^error: .+ \(not_found\)\n$/);
  });

  it("answers not_found, exit status 1, for an endpoint that is not the account's", async () => {
    const owner = await customer();
    const theirs = await json(owner, [
      "webhook",
      "create",
      "--url",
      receiver.url("/x"),
      "--events",
      "balance.low",
    ]);
    const stranger = await customer();
    for (const args of [
      ["describe", String(theirs.id)],
      ["ping", String(theirs.id)],
      ["delete", "999999"],
      ["deliveries", "999999"],
    ]) {
      const run = await stranger.vps(["webhook", ...args]);
      assert.equal(run.code, 1, args.join(" "));
      assert.match(run.stderr, /^error: .+ \(not_found\)\n$/, args.join(" "));
      assert.equal(run.stdout, "");
    }
    const byUrl = await stranger.vps(["webhook", "describe", receiver.url("/x")]);
    assert.equal(byUrl.code, 1);
    assert.match(byUrl.stderr, /^error: webhook "http:.+\/x" not found \(not_found\)\n$/);
  });
});
