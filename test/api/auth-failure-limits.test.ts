import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, client } from "../support/client.ts";
import { spawnServer } from "../support/spawned-server.ts";
import { ADMIN_TOKEN, OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";
import { expectError } from "./expect-error.ts";

// A window of about 31 years (epoch-aligned, the current one ends in 2033): it cannot end during a test.
const LONG_WINDOW_MS = "1000000000000";
const LIMITS = {
  VPS_AUTH_FAILURE_LIMIT: "3",
  VPS_AUTH_FAILURE_WINDOW_MS: LONG_WINDOW_MS,
  VPS_RATE_LIMIT_WINDOW_MS: LONG_WINDOW_MS,
};
const WRONG = "vps_wrong-token-0123456789abcdefghij";

function expectRefused(res: Awaited<ReturnType<Client["get"]>>): void {
  expectError(res, 429, "rate_limited");
  assert.ok(Number(res.headers.get("retry-after")) >= 1, "Retry-After says when to try again");
}

describe("failed authentications from one address", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(LIMITS);
  });
  after(() => t.close());

  it("are answered 401 up to the limit, then 429 to every token from it, the right ones included", async () => {
    const wrong = client(t.url, WRONG);
    for (let i = 0; i < 3; i++) expectError(await wrong.get("/api/v1/servers/"), 401, "unauthorized");
    expectRefused(await wrong.get("/api/v1/servers/"));
    expectRefused(await t.owner.get("/api/v1/servers/"));
    expectRefused(await t.admin.get("/api/v1/admin/accounts/"));
    // Without VPS_TRUST_PROXY a client cannot name itself someone else.
    expectRefused(
      await t.owner.request("GET", "/api/v1/servers/", undefined, { "X-Forwarded-For": "198.51.100.9" }),
    );
    assert.equal((await t.anonymous.get("/healthz")).status, 200);
  });
});

describe("failed authentications from one address, with rate limits off", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ ...LIMITS, VPS_RATE_LIMIT_READS: "0", VPS_RATE_LIMIT_WRITES: "0" });
  });
  after(() => t.close());

  it("refuse a token the process already let through from that address", async () => {
    assert.equal((await t.owner.get("/api/v1/servers/")).status, 200);
    const wrong = client(t.url, WRONG);
    for (let i = 0; i < 3; i++) expectError(await wrong.get("/api/v1/servers/"), 401, "unauthorized");
    expectRefused(await wrong.get("/api/v1/servers/"));
    expectRefused(await t.owner.get("/api/v1/servers/"));
  });
});

describe("failed host credentials from one address", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(LIMITS);
  });
  after(() => t.close());

  it("count like any other token's: 401 up to the limit, then 429 on the agent's routes too", async () => {
    const guesser = client(t.url, "vpsh_wrong-credential-0123456789abcdef");
    for (let i = 0; i < 3; i++) expectError(await guesser.get("/api/v1/agent/host/"), 401, "unauthorized");
    expectRefused(await guesser.get("/api/v1/agent/host/"));
    expectRefused(await t.owner.get("/api/v1/servers/"));
  });
});

describe("failed authentications behind a trusted proxy", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      ...LIMITS,
      VPS_TRUST_PROXY: "127.0.0.1",
      VPS_RATE_LIMIT_READS: "5",
      VPS_RATE_LIMIT_WRITES: "5",
    });
  });
  after(() => t.close());

  const from = (address: string, token: string | undefined) => ({
    get: (path: string) =>
      client(t.url, token).request("GET", path, undefined, { "X-Forwarded-For": address }),
  });

  it("are counted per client address, an IPv6 address by its /64", async () => {
    for (let i = 0; i < 3; i++)
      expectError(await from("203.0.113.7", WRONG).get("/api/v1/servers/"), 401, "unauthorized");
    expectRefused(await from("203.0.113.7", WRONG).get("/api/v1/servers/"));
    expectRefused(await from("203.0.113.7", OWNER_TOKEN).get("/api/v1/servers/"));
    assert.equal((await from("203.0.113.8", OWNER_TOKEN).get("/api/v1/servers/")).status, 200);

    for (const address of ["2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::3"])
      expectError(await from(address, WRONG).get("/api/v1/servers/"), 401, "unauthorized");
    expectRefused(await from("2001:db8:0:1::4", OWNER_TOKEN).get("/api/v1/servers/"));
    assert.equal((await from("2001:db8:0:2::1", OWNER_TOKEN).get("/api/v1/servers/")).status, 200);
  });

  it("include wrong admin tokens and malformed headers, but not requests without a token", async () => {
    for (let i = 0; i < 5; i++)
      expectError(await from("203.0.113.20", undefined).get("/api/v1/servers/"), 401, "unauthorized");
    assert.equal((await from("203.0.113.20", OWNER_TOKEN).get("/api/v1/servers/")).status, 200);

    const admin = (token: string) =>
      client(t.url, token).request("GET", "/api/v1/admin/accounts/", undefined, {
        "X-Forwarded-For": "203.0.113.21",
      });
    expectError(await admin(WRONG), 401, "unauthorized");
    expectError(await admin(OWNER_TOKEN), 401, "unauthorized");
    expectError(await admin("not a bearer token"), 401, "unauthorized");
    expectRefused(await admin(ADMIN_TOKEN));
  });

  it("leave the admin token on the same read budget as an API token", async () => {
    const admin = () =>
      client(t.url, ADMIN_TOKEN).request("GET", "/api/v1/admin/accounts/", undefined, {
        "X-Forwarded-For": "203.0.113.30",
      });
    for (let remaining = 4; remaining >= 0; remaining--) {
      const res = await admin();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("ratelimit-limit"), "5");
      assert.equal(res.headers.get("ratelimit-remaining"), String(remaining));
    }
    expectRefused(await admin());
  });
});

describe("failed authentications across processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-auth-failures-"));
  let databaseUrl = "";
  after(async () => {
    if (databaseUrl) await dropDatabase(databaseUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  it("are counted in one place for every process", async () => {
    databaseUrl = await freshDatabaseUrl(dir);
    const env = {
      ...LIMITS,
      DATABASE_URL: databaseUrl,
      VPS_BOOTSTRAP_TOKEN: "failures-owner-token-0123456789abcdef",
      VPS_ADMIN_TOKEN: "failures-admin-token-0123456789abcdef",
    };
    const a = await spawnServer(env);
    const b = await spawnServer(env);
    try {
      const statuses: number[] = [];
      for (const server of [a, b, a, b])
        statuses.push((await client(server.url, WRONG).get("/api/v1/servers/")).status);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      for (const server of [a, b])
        expectRefused(await client(server.url, env.VPS_BOOTSTRAP_TOKEN).get("/api/v1/servers/"));
    } finally {
      for (const p of [a, b]) {
        p.child.kill("SIGTERM");
        await p.exited;
      }
    }
  });
});
