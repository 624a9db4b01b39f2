import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kysely } from "kysely";
import { idempotencyKeyDigest } from "../../src/domain/sealed-response.ts";
import { client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

describe("Idempotency-Key on POST", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const post = (path: string, body: unknown, key: string, api = t.owner) =>
    api.request("POST", path, body, { "Idempotency-Key": key });
  /** Every row of every table, as JSON text: what a copy of the database would reveal. */
  const everyRow = async () => {
    // biome-ignore lint/suspicious/noExplicitAny: every table, whatever its columns
    const db = t.database.db as unknown as Kysely<any>;
    const rows: string[] = [];
    for (const table of await db.introspection.getTables()) {
      for (const row of await db.selectFrom(table.name).selectAll().execute())
        rows.push(`${table.name} ${JSON.stringify(row)}`);
    }
    return rows;
  };
  const serversNamed = async (name: string, api = t.owner) =>
    (await api.get("/api/v1/servers/?page_size=500")).body.results.filter(
      (s: { name: string }) => s.name === name,
    );

  it("answers a retry with the first response and creates one server", async () => {
    const body = { ...SAMPLE_CREATE, name: "once" };
    const first = await post("/api/v1/servers/", body, "create-once");
    const retry = await post("/api/v1/servers/", body, "create-once");
    assert.equal(first.status, 201);
    assert.equal(retry.status, 201);
    assert.equal(retry.text, first.text);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(retry.headers.get("location"), first.headers.get("location"));
    assert.equal((await serversNamed("once")).length, 1);
  });

  it("treats the same body in another key order as the same request", async () => {
    const first = await post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "ordered" }, "create-ordered");
    const reordered = Object.fromEntries(Object.entries({ ...SAMPLE_CREATE, name: "ordered" }).reverse());
    const retry = await post("/api/v1/servers/", reordered, "create-ordered");
    assert.equal(retry.body.id, first.body.id);
  });

  it("refuses the same key with a different body: 409 idempotency_key_reused", async () => {
    await post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "first-body" }, "create-reused");
    const other = await post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "other-body" }, "create-reused");
    expectError(other, 409, "idempotency_key_reused");
    assert.equal((await serversNamed("other-body")).length, 0);
  });

  it("does the work once for concurrent requests with one key", async () => {
    const body = { ...SAMPLE_CREATE, name: "concurrent" };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => post("/api/v1/servers/", body, "create-concurrent")),
    );
    assert.deepEqual([...new Set(responses.map((r) => r.status))], [201]);
    assert.equal(new Set(responses.map((r) => r.body.id)).size, 1);
    assert.equal((await serversNamed("concurrent")).length, 1);
  });

  it("starts a server once for a retried start, with the same action", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "restartable" });
    await waitForStatus(t.owner, created.body.id, "active");
    await t.owner.post(`/api/v1/servers/${created.body.id}/stop/`);
    await waitForStatus(t.owner, created.body.id, "stopped");
    const first = await post(`/api/v1/servers/${created.body.id}/start/`, undefined, "start-once");
    const retry = await post(`/api/v1/servers/${created.body.id}/start/`, undefined, "start-once");
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body.action_id, first.body.action_id);
    const actions = await t.owner.get(`/api/v1/servers/${created.body.id}/actions/`);
    assert.equal(actions.body.results.filter((a: { command: string }) => a.command === "start").length, 1);
  });

  it("keeps keys per account", async () => {
    const other = await t.newAccount();
    const mine = await post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "scoped" }, "create-scoped");
    const theirs = await post(
      "/api/v1/servers/",
      { ...SAMPLE_CREATE, name: "scoped" },
      "create-scoped",
      other,
    );
    assert.equal(theirs.status, 201);
    assert.notEqual(theirs.body.id, mine.body.id);
  });

  it("keeps no refusal: the same key is new again, and a malformed key is refused", async () => {
    const bad = { ...SAMPLE_CREATE, name: "-bad-" };
    const first = await post("/api/v1/servers/", bad, "create-invalid");
    const retry = await post("/api/v1/servers/", bad, "create-invalid");
    expectError(first, 400, "invalid_input", ["name"]);
    expectError(retry, 400, "invalid_input", ["name"]);
    assert.equal(retry.headers.get("idempotent-replayed"), null, "validated again, not replayed");
    expectError(await post("/api/v1/servers/", SAMPLE_CREATE, "has space"), 400, "invalid_input", [
      "Idempotency-Key",
    ]);
  });

  it("takes a path with and without its trailing slash as one request", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "slashed" });
    await waitForStatus(t.owner, created.body.id, "active");
    const first = await post(`/api/v1/servers/${created.body.id}/reboot`, undefined, "reboot-slash");
    const retry = await post(`/api/v1/servers/${created.body.id}/reboot/`, undefined, "reboot-slash");
    assert.equal(first.status, 200, first.text);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(retry.body.action_id, first.body.action_id);
  });

  it("adds a retried credit top-up once", async () => {
    const api = await t.newAccount("1.00");
    const { id } = (await api.get("/api/v1/account/")).body;
    const topUp = () =>
      post(`/api/v1/admin/accounts/${id}/credit/`, { amount: "10.00" }, "top-up-1", t.admin);
    assert.equal((await topUp()).body.balance, "11.00");
    const retry = await topUp();
    assert.equal(retry.body.balance, "11.00");
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal((await api.get("/api/v1/account/")).body.balance, "11.00");
  });

  it("answers a retry from what the first request committed when its response was lost with its process", async () => {
    const body = { ...SAMPLE_CREATE, name: "crashed" };
    const first = await post("/api/v1/servers/", body, "create-crashed");
    // As if the process had died between the create's commit and storing its response.
    await t.app.services.repos.db
      .updateTable("idempotency_keys")
      .set({
        state: "started",
        status_code: null,
        response_body: null,
        created_at: "2000-01-01T00:00:00.000Z",
      })
      .where("key", "=", idempotencyKeyDigest("create-crashed"))
      .execute();
    await t.app.services.repos.db
      .updateTable("idempotency_keys")
      .set({ created_at: new Date(Date.now() - 5000).toISOString() })
      .where("key", "=", idempotencyKeyDigest("create-crashed"))
      .execute();
    const retry = await post("/api/v1/servers/", body, "create-crashed");
    assert.equal(retry.status, 201);
    assert.equal(retry.body.id, first.body.id);
    assert.equal(retry.body.action_id, first.body.action_id);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal((await serversNamed("crashed")).length, 1);
  });

  it("keeps no API token of a keyed account or token create in the database, and replays it to the key's holder", async () => {
    const body = { email: "sealed@example.com", credit: "5.00" };
    const created = await post("/api/v1/admin/accounts/", body, "account-sealed-1", t.admin);
    assert.equal(created.status, 201);
    const issued = await post(
      `/api/v1/admin/accounts/${created.body.id}/tokens/`,
      { name: "ci" },
      "token-sealed-1",
      t.admin,
    );
    assert.equal(issued.status, 201);
    const rows = await everyRow();
    assert.ok(
      rows.some((row) => row.startsWith("idempotency_keys ")),
      "the keys are stored",
    );
    for (const secret of [
      created.body.api_token,
      issued.body.api_token,
      "account-sealed-1",
      "token-sealed-1",
    ]) {
      const leaks = rows.filter((row) => row.includes(secret));
      assert.deepEqual(leaks, [], `${secret} is stored in plaintext`);
    }

    const replayedAccount = await post("/api/v1/admin/accounts/", body, "account-sealed-1", t.admin);
    assert.equal(replayedAccount.status, 201);
    assert.equal(replayedAccount.headers.get("idempotent-replayed"), "true");
    assert.equal(replayedAccount.text, created.text);
    const replayedToken = await post(
      `/api/v1/admin/accounts/${created.body.id}/tokens/`,
      { name: "ci" },
      "token-sealed-1",
      t.admin,
    );
    assert.equal(replayedToken.headers.get("idempotent-replayed"), "true");
    assert.equal(replayedToken.text, issued.text);
    for (const token of [created.body.api_token, issued.body.api_token]) {
      const me = await client(t.url, token).get("/api/v1/account/");
      assert.equal(me.body.email, "sealed@example.com");
    }
  });
});

describe("Idempotency-Key after a refusal", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("lets the same key stop a server once the condition that refused it has cleared", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "refused" });
    const id = created.body.id;
    await waitForStatus(t.owner, id, "active");
    assert.equal((await t.owner.post(`/api/v1/servers/${id}/stop/`)).status, 200);
    await waitForStatus(t.owner, id, "stopped");
    const stop = () =>
      t.owner.request("POST", `/api/v1/servers/${id}/stop/`, undefined, {
        "Idempotency-Key": "stop-when-running",
      });
    expectError(await stop(), 400, "server_not_running");

    assert.equal((await t.owner.post(`/api/v1/servers/${id}/start/`)).status, 200);
    await waitForStatus(t.owner, id, "active");
    const stopped = await stop();
    assert.equal(stopped.status, 200, stopped.text);
    assert.equal(stopped.headers.get("idempotent-replayed"), null);
    assert.equal(stopped.body.server.status, "stopping");
    await waitForStatus(t.owner, id, "stopped");
    const again = await stop();
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal(again.body.action_id, stopped.body.action_id);
  });
});

describe("Idempotency-Key expiry", () => {
  const clock = new SettableClock();
  let t: TestApp;
  before(async () => {
    t = await startTestApp({}, clock);
  });
  after(() => t.close());

  const MINUTE = 60_000;
  const HOUR = 60 * MINUTE;

  it("replays a key for 24 hours and takes it as new after them", async () => {
    const api = await t.newAccount("1.00");
    const topUp = (key: string) =>
      t.admin.request(
        "POST",
        `/api/v1/admin/accounts/${api.accountId}/credit/`,
        { amount: "10.00" },
        {
          "Idempotency-Key": key,
        },
      );
    assert.equal((await topUp("daily-top-up")).body.balance, "11.00");
    assert.equal((await topUp("other-top-up")).body.balance, "21.00");

    clock.advance(23 * HOUR + 59 * MINUTE);
    const withinDay = await topUp("daily-top-up");
    assert.equal(withinDay.headers.get("idempotent-replayed"), "true");
    assert.equal(withinDay.body.balance, "11.00");
    assert.equal((await api.get("/api/v1/account/")).body.balance, "21.00");

    clock.advance(MINUTE);
    const nextDay = await topUp("daily-top-up");
    assert.equal(nextDay.headers.get("idempotent-replayed"), null);
    assert.equal(nextDay.body.balance, "31.00", "the top-up is done again");

    // Every expired key is forgotten within the hour, whether or not it is used again.
    clock.advance(HOUR);
    await topUp("later-top-up");
    const kept = await t.database.db.selectFrom("idempotency_keys").select("key").execute();
    assert.equal(kept.length, 2, "the day-old key of the second top-up is gone");
  });
});
