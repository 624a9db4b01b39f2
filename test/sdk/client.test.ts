import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient, VpsApiError } from "../../sdk/src/index.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { insertServers } from "../support/insert-servers.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("the SDK against the real service", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_SIM_DELAY_MS: "300" });
  });
  after(() => t.close());

  async function newSdk(fetch?: (request: Request) => Promise<Response>) {
    const account = await t.newAccount();
    return { account, vps: createClient({ url: t.url, token: account.token ?? "", fetch }) };
  }

  it("resends a create whose answer was lost with the same Idempotency-Key, and one server is made", async () => {
    const keys: string[] = [];
    let lost = 0;
    const { account, vps } = await newSdk(async (request) => {
      keys.push(request.headers.get("Idempotency-Key") ?? "none");
      const response = await fetch(request);
      if (request.method === "POST" && lost++ === 0) throw new TypeError("fetch failed: connection reset");
      return response;
    });
    const { data: created } = await vps.POST("/api/v1/servers/", {
      body: { ...SAMPLE_CREATE, name: "once" },
    });
    assert.equal(keys.length, 2, "sent twice");
    assert.equal(keys[0], keys[1], "with one key");
    assert.match(keys[0] ?? "", /^[0-9a-f-]{36}$/);
    const listed = await account.get("/api/v1/servers/");
    assert.equal(listed.body.count, 1);
    assert.equal(listed.body.results[0].id, created?.id);
  });

  it("gives each create its own key, so two creates make two servers", async () => {
    const { account, vps } = await newSdk();
    await vps.POST("/api/v1/servers/", { body: { ...SAMPLE_CREATE, name: "a" } });
    await vps.POST("/api/v1/servers/", { body: { ...SAMPLE_CREATE, name: "b" } });
    assert.equal((await account.get("/api/v1/servers/")).body.count, 2);
  });

  it("waits on the server for a create's action to end, then for the server to stop", async () => {
    const { vps } = await newSdk();
    const { data: created } = await vps.POST("/api/v1/servers/", { body: SAMPLE_CREATE });
    assert.ok(created);
    const action = await vps.waitForAction(created.action_id, { timeoutSeconds: 60 });
    assert.equal(action.status, "success");
    const active = await vps.GET("/api/v1/servers/{server_id}/", {
      params: { path: { server_id: created.id } },
    });
    assert.equal(active.data?.status, "active");
    await vps.POST("/api/v1/servers/{server_id}/stop/", { params: { path: { server_id: created.id } } });
    const stopped = await vps.waitForServerStatus(created.id, "stopped", { timeoutSeconds: 60 });
    assert.equal(stopped.status, "stopped");
  });

  it("iterates every page of a list, and keeps its filter on each page", async () => {
    const { account, vps } = await newSdk();
    const seeded = await insertServers(t.database.db, 120, () => account.accountId, "paged");
    const ids: number[] = [];
    for await (const server of vps.pages("/api/v1/servers/", { page_size: 25 })) ids.push(server.id);
    assert.deepEqual(ids.toSorted(), seeded.map((s) => s.id).toSorted());
    const active: string[] = [];
    for await (const server of vps.pages("/api/v1/servers/", { status: "active", page_size: 7 }))
      active.push(server.status);
    assert.equal(active.length, 60);
    assert.ok(active.every((status) => status === "active"));
  });

  it("throws a VpsApiError with the API's code instead of answering an error", async () => {
    const { vps } = await newSdk();
    const missing = await vps
      .GET("/api/v1/servers/{server_id}/", { params: { path: { server_id: 999999 } } })
      .catch((error: unknown) => error);
    assert.ok(missing instanceof VpsApiError);
    assert.equal(missing.status, 404);
    assert.equal(missing.code, "not_found");
    const invalid = await vps
      .POST("/api/v1/servers/", { body: { ...SAMPLE_CREATE, name: "" } })
      .catch((error: unknown) => error);
    assert.ok(invalid instanceof VpsApiError);
    assert.equal(invalid.status, 400);
    assert.equal(invalid.code, "invalid_input");
    assert.ok(Object.keys(invalid.fields).length > 0, JSON.stringify(invalid.fields));
  });
});

describe("the SDK on a spent rate limit", () => {
  let t: TestApp;
  before(async () => {
    // Two reads a window of a second: a third is refused with Retry-After: 1 (six reads fill one window past it).
    t = await startTestApp({ VPS_RATE_LIMIT_READS: "2", VPS_RATE_LIMIT_WINDOW_MS: "1000" });
  });
  after(() => t.close());

  it("sends a read refused with 429 again after Retry-After, and answers it", async () => {
    const account = await t.newAccount();
    const statuses: number[] = [];
    const vps = createClient({
      url: t.url,
      token: account.token ?? "",
      fetch: async (request) => {
        const response = await fetch(request);
        statuses.push(response.status);
        return response;
      },
    });
    for (let i = 0; i < 5; i++) {
      const { data } = await vps.GET("/api/v1/servers/");
      assert.equal(data?.count, 0);
    }
    assert.ok(statuses.includes(429), `a 429 was met: ${statuses.join(",")}`);
    assert.equal(statuses.at(-1), 200);
  });

  it("throws the 429 as rate_limited when retries are off", async () => {
    const account = await t.newAccount();
    const vps = createClient({ url: t.url, token: account.token ?? "", retry: { maxAttempts: 1 } });
    const errors: unknown[] = [];
    for (let i = 0; i < 6; i++)
      await vps.GET("/api/v1/servers/").catch((error: unknown) => errors.push(error));
    const refused = errors[0];
    assert.ok(refused instanceof VpsApiError);
    assert.equal(refused.status, 429);
    assert.equal(refused.code, "rate_limited");
  });
});
