import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { client, SAMPLE_CREATE } from "../support/client.ts";
import { spawnServer } from "../support/spawned-server.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";
import { expectError } from "./expect-error.ts";

describe("rate limits per token", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      VPS_RATE_LIMIT_READS: "5",
      // The admin token has budgets too: five writes leave room for the accounts the tests make.
      VPS_RATE_LIMIT_WRITES: "5",
      // Windows are fixed, aligned to the epoch: one of about 31 years cannot end between a test's requests.
      VPS_RATE_LIMIT_WINDOW_MS: "1000000000000",
      VPS_SIM_DELAY_MS: "300",
    });
  });
  after(() => t.close());

  it("counts reads down in the RateLimit headers and answers 429 with Retry-After when they run out", async () => {
    const api = await t.newAccount();
    for (let remaining = 4; remaining >= 0; remaining--) {
      const res = await api.get("/api/v1/servers/");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("ratelimit-limit"), "5");
      assert.equal(res.headers.get("ratelimit-remaining"), String(remaining));
      assert.ok(Number(res.headers.get("ratelimit-reset")) >= 1);
    }
    const refused = await api.get("/api/v1/servers/");
    expectError(refused, 429, "rate_limited");
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    assert.equal(refused.headers.get("ratelimit-remaining"), "0");
  });

  it("keeps writes on a budget of their own, and each token on its own", async () => {
    const api = await t.newAccount();
    for (let i = 0; i < 5; i++) await api.get("/api/v1/account/");
    const created = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201, "reads spent, writes still allowed");
    assert.equal(created.headers.get("ratelimit-limit"), "5");
    for (let i = 0; i < 4; i++) await api.post("/api/v1/ssh-keys/", { name: "x", public_key: "not a key" });
    expectError(await api.post("/api/v1/servers/", SAMPLE_CREATE), 429, "rate_limited");
    const other = await t.newAccount();
    assert.equal((await other.get("/api/v1/servers/")).status, 200);
  });

  it("lets a client that waits on an action see it finish without a single 429", async () => {
    const api = await t.newAccount();
    const created = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    const waited = await api.get(`/api/v1/actions/${created.body.action_id}/?wait=30`);
    assert.equal(waited.status, 200);
    assert.equal(waited.body.status, "success");
    assert.equal(waited.headers.get("ratelimit-remaining"), "4", "the whole wait cost one read");
  });
});

describe("rate limits across processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-limits-"));
  let databaseUrl: string;
  after(async () => {
    await dropDatabase(databaseUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts a token's requests to every process in one budget", async () => {
    databaseUrl = await freshDatabaseUrl(dir);
    const env = {
      DATABASE_URL: databaseUrl,
      VPS_BOOTSTRAP_TOKEN: "limits-owner-token-0123456789abcdef",
      VPS_ADMIN_TOKEN: "limits-admin-token-0123456789abcdef",
      VPS_RATE_LIMIT_READS: "4",
      VPS_RATE_LIMIT_WINDOW_MS: "1000000000000",
    };
    const a = await spawnServer(env);
    const b = await spawnServer(env);
    try {
      const statuses: number[] = [];
      for (const server of [a, b, a, b, a]) {
        statuses.push((await client(server.url, env.VPS_BOOTSTRAP_TOKEN).get("/api/v1/servers/")).status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
    } finally {
      for (const p of [a, b]) {
        p.child.kill("SIGTERM");
        await p.exited;
      }
    }
  });
});
