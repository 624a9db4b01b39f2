import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startAppWithReceiver } from "../support/app-with-receiver.ts";
import { eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signatureVerifies, WebhookReceiver } from "../support/webhook-receiver.ts";
import { expectError } from "./expect-error.ts";

const WEBHOOKS = "/api/v1/webhooks/";
const ALL_EVENTS = ["action.finished", "server.status_changed", "backup.finished", "balance.low"];

describe("webhooks", { concurrency: true }, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    ({ t, receiver } = await startAppWithReceiver({
      VPS_WEBHOOK_RETRY_SCHEDULE_MS: "50,50,50,50",
      VPS_WEBHOOK_DISABLE_AFTER_FAILURES: "2",
      VPS_WEBHOOK_TIMEOUT_MS: "2000",
      VPS_LOW_BALANCE_THRESHOLD: "5.00",
    }));
  });
  after(() => t?.close());

  let paths = 0;
  async function register(api = t.owner, events = ALL_EVENTS) {
    const path = `/hooks/${++paths}`;
    const res = await api.post(WEBHOOKS, { url: receiver.url(path), events });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.id as number, secret: res.body.secret as string, path };
  }
  const deliveries = async (id: number, api = t.owner) =>
    (await api.get(`${WEBHOOKS}${id}/deliveries/`)).body;

  it("shows the secret once, and signs each delivery with it as Standard Webhooks says", async () => {
    const { id, secret, path } = await register();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const shown = await t.owner.get(`${WEBHOOKS}${id}/`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.secret, undefined);
    assert.equal(shown.body.enabled, true);
    assert.deepEqual(shown.body.events.sort(), [...ALL_EVENTS].sort());

    const ping = await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    assert.equal(ping.status, 202, ping.text);
    const [hook] = await eventually(async () => (receiver.to(path).length ? receiver.to(path) : undefined));
    assert.ok(hook);
    assert.equal(hook.json.type, "ping");
    assert.equal(hook.headers["webhook-id"], hook.json.id);
    assert.equal(hook.headers["content-type"], "application/json");
    assert.ok(Math.abs(Number(hook.headers["webhook-timestamp"]) - Date.now() / 1000) < 60);
    assert.ok(signatureVerifies(secret, hook), "the signature verifies with the secret shown at creation");

    const list = await eventually(async () => {
      const body = await deliveries(id);
      return body.results[0]?.status === "succeeded" ? body : undefined;
    });
    assert.equal(list.count, 1);
    assert.equal(list.results[0].webhook_id, hook.json.id);
    assert.equal(list.results[0].attempts.length, 1);
    assert.equal(list.results[0].attempts[0].status_code, 200);
    assert.equal(list.results[0].attempts[0].response_excerpt, "answered 200");

    // A rotated secret signs what follows; the old one no longer verifies.
    const rotated = await t.owner.post(`${WEBHOOKS}${id}/rotate_secret/`);
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.body.secret, secret);
    await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    const second = await eventually(async () => receiver.to(path)[1]);
    assert.ok(signatureVerifies(rotated.body.secret, second));
    assert.ok(!signatureVerifies(secret, second));
  });

  it("tells of an action's end and of each status change of the account's servers", async () => {
    const account = await t.newAccount();
    const { path } = await register(account);
    const created = await account.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "hooked" });
    assert.equal(created.status, 201, created.text);
    const serverId = created.body.id;
    await waitForStatus(account, serverId, "active");
    const finished = await eventually(async () =>
      receiver.to(path).find((h) => h.json.type === "action.finished"),
    );
    const action = finished.json.data.action as Record<string, unknown>;
    assert.equal(action.command, "create");
    assert.equal(action.status, "success");
    assert.equal(action.server_id, serverId);
    const changed = await eventually(async () =>
      receiver.to(path).find((h) => h.json.type === "server.status_changed"),
    );
    assert.deepEqual(changed.json.data, {
      server: { id: serverId, name: "hooked" },
      old_status: "provisioning",
      new_status: "active",
    });

    // A stop: the change to `stopping` and then to `stopped`, each once.
    assert.equal((await account.post(`/api/v1/servers/${serverId}/stop/`)).status, 200);
    await waitForStatus(account, serverId, "stopped");
    const changes = await eventually(async () => {
      const seen = receiver
        .to(path)
        .filter((h) => h.json.type === "server.status_changed")
        .map((h) => `${h.json.data.old_status}>${h.json.data.new_status}`);
      return seen.length >= 3 ? seen : undefined;
    });
    assert.deepEqual(changes, ["provisioning>active", "active>stopping", "stopping>stopped"]);
  });

  it("tells of a backup's end with its image, available or failed", async () => {
    const account = await t.newAccount();
    const { path } = await register(account, ["backup.finished"]);
    const created = await account.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "backed-up" });
    assert.equal(created.status, 201, created.text);
    const serverId = created.body.id;
    await waitForStatus(account, serverId, "active");
    const backupFinished = async (count: number) =>
      eventually(async () => {
        const hooks = receiver.to(path).filter((h) => h.json.type === "backup.finished");
        return hooks.length >= count ? hooks[count - 1] : undefined;
      });

    const taken = await account.post(`/api/v1/servers/${serverId}/backup/`);
    assert.equal(taken.status, 200, taken.text);
    const done = await backupFinished(1);
    const image = done.json.data.image as Record<string, unknown>;
    assert.equal(image.type, "backup");
    assert.equal(image.status, "available");
    assert.equal(image.server_id, serverId);
    assert.deepEqual(image, (await account.get(`/api/v1/images/${image.id}/`)).body, "as the API shows it");

    // A copy that can never be made: the backup fails, and that is told too.
    t.driver.faults.inject("capture", { permanent: true });
    try {
      const failing = await account.post(`/api/v1/servers/${serverId}/backup/`);
      assert.equal(failing.status, 200, failing.text);
      const failed = (await backupFinished(2)).json.data.image as Record<string, unknown>;
      assert.notEqual(failed.id, image.id);
      assert.equal(failed.type, "backup");
      assert.equal(failed.status, "failed");
      assert.deepEqual(failed, (await account.get(`/api/v1/images/${failed.id}/`)).body);
    } finally {
      t.driver.faults.clear();
    }
    assert.equal(
      receiver.to(path).length,
      2,
      "nothing else was sent: the endpoint takes only backup.finished",
    );
  });

  it("sends an event to a receiver that failed three times a fourth time, and no more", async () => {
    const { id, path } = await register();
    // Each test changes the answers to its own path only: they run at once.
    const others = receiver.answer;
    receiver.answer = (hook, i) =>
      hook.path === path ? (receiver.to(path).length <= 3 ? 500 : 200) : others(hook, i);
    await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    const list = await eventually(async () => {
      const body = await deliveries(id);
      return body.results[0]?.status === "succeeded" ? body : undefined;
    });
    // Time for any further attempt the schedule (50 ms apart) would make.
    await new Promise((r) => setTimeout(r, 1000));
    const got = receiver.to(path);
    assert.equal(got.length, 4);
    assert.equal(new Set(got.map((h) => h.headers["webhook-id"])).size, 1, "one webhook-id on every attempt");
    const attempts = (await deliveries(id)).results[0].attempts;
    assert.deepEqual(
      attempts.map((a: { status_code: number }) => a.status_code),
      [500, 500, 500, 200],
    );
    assert.equal(list.results[0].attempts.length, 4);
  });

  it("disables an endpoint whose deliveries keep failing, shows why, and enables it again on request", async () => {
    const { id, path } = await register();
    let failing = true;
    const others = receiver.answer;
    receiver.answer = (hook, i) => (hook.path === path ? (failing ? 503 : 200) : others(hook, i));
    for (let i = 0; i < 2; i++) {
      await t.owner.post(`${WEBHOOKS}${id}/ping/`);
      // Five attempts each; generous for a loaded machine.
      await eventually(
        async () => {
          const body = await deliveries(id);
          return body.results[0]?.status === "failed" ? body : undefined;
        },
        30_000,
        "the delivery to fail for good",
      );
    }
    const shown = await eventually(async () => {
      const res = await t.owner.get(`${WEBHOOKS}${id}/`);
      return res.body.enabled === false ? res.body : undefined;
    });
    assert.match(shown.disabled_reason, /kept failing.*HTTP 503/);
    assert.ok(shown.disabled_at);
    assert.equal(receiver.to(path).length, 10, "two deliveries of five attempts each");

    // While disabled, an event waits; enabled again, it is sent.
    await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.to(path).length, 10);
    failing = false;
    const enabled = await t.owner.patch(`${WEBHOOKS}${id}/`, { enabled: true });
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal(enabled.body.enabled, true);
    assert.equal(enabled.body.disabled_reason, null);
    await eventually(async () => (receiver.to(path).length === 11 ? true : undefined));
  });

  it("tells once when a charge takes the balance below the threshold", async () => {
    const account = await t.newAccount();
    const { path } = await register(account, ["balance.low"]);
    const created = await account.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "billed" });
    assert.equal(created.status, 201, created.text);
    const db = t.database.db;
    // Just above the threshold, and two hours due: the first charge crosses it, the second is below already.
    await db
      .updateTable("accounts")
      .set({ balance_minor: 501 })
      .where("id", "=", account.accountId)
      .execute();
    const past = new Date(Date.now() - 2 * 3600_000 - 60_000).toISOString();
    await db.updateTable("servers").set({ billed_until: past }).where("id", "=", created.body.id).execute();
    await t.app.engine.billing.runOnce();
    const low = await eventually(async () => receiver.to(path).find((h) => h.json.type === "balance.low"));
    assert.equal(low.json.data.threshold, "5.00");
    assert.equal(low.json.data.currency, "USD");
    assert.match(String(low.json.data.balance), /^[0-4]\.\d\d$/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.to(path).length, 1);
  });

  it("refuses URLs that are not http(s) or carry credentials, with a stable code", async () => {
    for (const url of [
      "ftp://example.com/x",
      "http://user:pass@example.com/x",
      "not a url",
      `https://e.com/${"a".repeat(2000)}`,
    ]) {
      const res = await t.owner.post(WEBHOOKS, { url, events: ALL_EVENTS });
      expectError(res, 400, url.length > 2000 ? "invalid_input" : "webhook_url_invalid", ["url"]);
    }
    expectError(await t.owner.post(WEBHOOKS, { url: receiver.url(), events: [] }), 400, "invalid_input", [
      "events",
    ]);
  });

  it("redelivers a delivery's message again with its webhook-id and payload, once its attempts are over", async () => {
    const { id, secret, path } = await register();
    await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    const first = await eventually(async () => {
      const body = await deliveries(id);
      return body.results[0]?.status === "succeeded" ? body.results[0] : undefined;
    });
    const again = await t.owner.post(`${WEBHOOKS}${id}/deliveries/${first.id}/redeliver/`);
    assert.equal(again.status, 202, again.text);
    assert.notEqual(again.body.id, first.id);
    assert.equal(again.body.webhook_id, first.webhook_id);
    assert.equal(again.body.redelivery_of, first.id);
    assert.equal(again.body.event_type, "ping");
    assert.equal(again.body.status, "pending");
    assert.deepEqual(again.body.attempts, []);

    const [original, resent] = await eventually(async () => {
      const got = receiver.to(path);
      return got.length === 2 ? got : undefined;
    });
    assert.ok(original && resent);
    assert.equal(resent.headers["webhook-id"], original.headers["webhook-id"]);
    assert.equal(resent.body, original.body, "the same payload: id, type, timestamp and data");
    assert.ok(signatureVerifies(secret, resent));
    const list = await eventually(async () => {
      const body = await deliveries(id);
      return body.results[0]?.status === "succeeded" ? body : undefined;
    });
    assert.equal(list.count, 2);
    assert.deepEqual(
      list.results.map((d: { id: number; redelivery_of: number | null }) => [d.id, d.redelivery_of]),
      [
        [again.body.id, first.id],
        [first.id, null],
      ],
    );
    // A redelivery's redelivery is still the first's message.
    const third = await t.owner.post(`${WEBHOOKS}${id}/deliveries/${again.body.id}/redeliver/`);
    assert.equal(third.status, 202, third.text);
    assert.equal(third.body.redelivery_of, first.id);
    assert.equal(third.body.webhook_id, first.webhook_id);
  });

  it("refuses to redeliver a delivery still being tried, or one that is not the endpoint's", async () => {
    const { id } = await register();
    const { id: otherId } = await register();
    // Paused: its ping waits, pending.
    assert.equal((await t.owner.patch(`${WEBHOOKS}${id}/`, { enabled: false })).status, 200);
    const ping = await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    const deliveryId = ping.body.delivery_id;
    expectError(
      await t.owner.post(`${WEBHOOKS}${id}/deliveries/${deliveryId}/redeliver/`),
      409,
      "webhook_delivery_pending",
    );
    expectError(
      await t.owner.post(`${WEBHOOKS}${otherId}/deliveries/${deliveryId}/redeliver/`),
      404,
      "not_found",
    );
    expectError(await t.owner.post(`${WEBHOOKS}${id}/deliveries/999999/redeliver/`), 404, "not_found");
    const other = await t.newAccount();
    expectError(await other.post(`${WEBHOOKS}${id}/deliveries/${deliveryId}/redeliver/`), 404, "not_found");
    assert.equal((await deliveries(id)).count, 1, "nothing was queued");
  });

  it("is a 404 to another account", async () => {
    const { id } = await register();
    const other = await t.newAccount();
    expectError(await other.get(`${WEBHOOKS}${id}/`), 404, "not_found");
    expectError(await other.patch(`${WEBHOOKS}${id}/`, { enabled: false }), 404, "not_found");
    expectError(await other.post(`${WEBHOOKS}${id}/ping/`), 404, "not_found");
    expectError(await other.post(`${WEBHOOKS}${id}/rotate_secret/`), 404, "not_found");
    expectError(await other.get(`${WEBHOOKS}${id}/deliveries/`), 404, "not_found");
    expectError(await other.delete(`${WEBHOOKS}${id}/`), 404, "not_found");
    assert.equal((await other.get(WEBHOOKS)).body.count, 0);
    assert.equal((await t.owner.get(`${WEBHOOKS}${id}/`)).status, 200);
  });
});

describe("webhooks without an operator's allowance", () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    receiver = await WebhookReceiver.start();
    t = await startTestApp({ VPS_WEBHOOK_RETRY_SCHEDULE_MS: "50", VPS_WEBHOOK_TIMEOUT_MS: "2000" });
  });
  after(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** The delivery of a ping to `url`, once it has failed for good. */
  async function pingFails(url: string) {
    const res = await t.owner.post(WEBHOOKS, { url, events: ["balance.low"] });
    assert.equal(res.status, 201, res.text);
    await t.owner.post(`${WEBHOOKS}${res.body.id}/ping/`);
    return eventually(async () => {
      const body = (await t.owner.get(`${WEBHOOKS}${res.body.id}/deliveries/`)).body;
      return body.results[0]?.status === "failed" ? body.results[0] : undefined;
    });
  }

  it("never delivers into a pool's range, assigned or not, even when the range is public", async () => {
    const added = await t.admin.post("/api/v1/admin/locations/us-east/addresses/", { cidr: "45.77.10.0/29" });
    assert.equal(added.status, 201, added.text);
    // .3 is in the pool and free; .7 is the block's broadcast address, never pooled; .8 is past the block.
    for (const address of ["45.77.10.3", "45.77.10.7"]) {
      const delivery = await pingFails(`http://${address}:9/hook`);
      assert.equal(
        delivery.attempts[0].error,
        `refused: ${address} resolves to ${address}, which webhooks may not reach`,
      );
    }
    const outside = await pingFails("http://45.77.10.8:9/hook");
    assert.doesNotMatch(outside.attempts[0].error, /^refused/, "an address past the block is tried");
  });

  it("never delivers to a host's agent", async () => {
    const host = await t.admin.post("/api/v1/admin/hosts/", { name: "hv-public", location: "us-west" });
    assert.equal(host.status, 201, host.text);
    await t.database.db
      .updateTable("hosts")
      .set({ transfer_url: "http://45.77.20.9:9443" })
      .where("id", "=", host.body.host.id)
      .execute();
    const delivery = await pingFails("http://45.77.20.9:8080/hook");
    assert.match(delivery.attempts[0].error, /^refused: .* may not reach$/);
  });

  it("never delivers to a loopback address, and says so in the delivery's attempts", async () => {
    for (const url of [
      receiver.url(),
      receiver.url().replace("127.0.0.1", "[::1]"),
      "http://localhost:9/x",
    ]) {
      const res = await t.owner.post(WEBHOOKS, { url, events: ALL_EVENTS });
      assert.equal(res.status, 201, res.text);
      await t.owner.post(`${WEBHOOKS}${res.body.id}/ping/`);
      const delivery = await eventually(async () => {
        const body = (await t.owner.get(`${WEBHOOKS}${res.body.id}/deliveries/`)).body;
        return body.results[0]?.status === "failed" ? body.results[0] : undefined;
      });
      assert.equal(delivery.attempts.length, 2);
      assert.match(delivery.attempts[0].error, /^refused: .* may not reach$/);
    }
    assert.equal(receiver.received.length, 0);
  });
});

describe("webhooks with the dispatcher's poll an hour away", () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    receiver = await WebhookReceiver.start();
    // Only being woken can deliver within the test's wait: a ping, an action's end, a status change (written by
    // a trigger) and an event that waited for its endpoint to be enabled again.
    t = await startTestApp({ VPS_WEBHOOK_ALLOWED_NETWORKS: "127.0.0.0/8", VPS_POLL_MS: "3600000" });
  });
  after(async () => {
    await t?.close();
    await receiver?.close();
  });

  it("delivers each event as soon as it is queued", async () => {
    const res = await t.owner.post(WEBHOOKS, { url: receiver.url("/woken"), events: ALL_EVENTS });
    assert.equal(res.status, 201, res.text);
    const id = res.body.id as number;
    assert.equal((await t.owner.post(`${WEBHOOKS}${id}/ping/`)).status, 202);
    await eventually(async () => receiver.to("/woken").find((h) => h.json.type === "ping"));

    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "woken" });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(t.owner, created.body.id, "active");
    await eventually(async () => receiver.to("/woken").find((h) => h.json.type === "action.finished"));
    await eventually(async () => receiver.to("/woken").find((h) => h.json.type === "server.status_changed"));

    assert.equal((await t.owner.patch(`${WEBHOOKS}${id}/`, { enabled: false })).status, 200);
    await t.owner.post(`${WEBHOOKS}${id}/ping/`);
    assert.equal((await t.owner.patch(`${WEBHOOKS}${id}/`, { enabled: true })).status, 200);
    await eventually(async () =>
      receiver.to("/woken").filter((h) => h.json.type === "ping").length === 2 ? true : undefined,
    );
  });
});
