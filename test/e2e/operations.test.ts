import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { client } from "../support/client.ts";
import { type SpawnedServer, spawnServer } from "../support/spawned-server.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

const TOKEN = "operations-token-0123456789abcdef";
const ADMIN = "operations-admin-0123456789abcdef";

describe("operating the service", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-ops-"));
  let server: SpawnedServer;
  let databaseUrl: string;
  before(async () => {
    databaseUrl = await freshDatabaseUrl(dir);
    server = await spawnServer({
      DATABASE_URL: databaseUrl,
      VPS_BOOTSTRAP_TOKEN: TOKEN,
      VPS_ADMIN_TOKEN: ADMIN,
    });
  });
  after(async () => {
    server.child.kill("SIGTERM");
    await server.exited;
    await dropDatabase(databaseUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers /healthz and /readyz without a token", async () => {
    const anonymous = client(server.url, undefined);
    assert.deepEqual((await anonymous.get("/healthz")).body, { status: "ok" });
    assert.deepEqual((await anonymous.get("/readyz")).body, { status: "ready" });
  });

  it("logs JSON lines carrying the request id it echoes in X-Request-Id, and never a token", async () => {
    const api = client(server.url, TOKEN);
    const res = await api.get("/api/v1/servers/");
    const requestId = res.headers.get("x-request-id");
    assert.match(requestId ?? "", /^[0-9a-f-]{36}$/);
    const completed = await server.waitForLog((l) => l.reqId === requestId && l.msg === "request completed");
    assert.deepEqual(completed.res, { statusCode: 200 });

    const traced = await api.request("GET", "/api/v1/account/", undefined, { "X-Request-Id": "trace-42" });
    assert.equal(traced.headers.get("x-request-id"), "trace-42");
    await server.waitForLog((l) => l.reqId === "trace-42" && l.msg === "request completed");

    await client(server.url, ADMIN).post("/api/v1/admin/accounts/", {
      email: "log@example.com",
      credit: "1.00",
    });
    await api.get("/api/v1/nope");
    const text = server.logs.map((l) => JSON.stringify(l)).join("\n");
    assert.ok(!text.includes(TOKEN), "the API token is not in the logs");
    assert.ok(!text.includes(ADMIN), "the admin token is not in the logs");
    assert.ok(!/vps_[A-Za-z0-9_-]{20,}/.test(text), "no generated token is in the logs");
  });

  it("generates the admin and first-account tokens on first start when none are given, and shows them once", async () => {
    const fresh = mkdtempSync(join(tmpdir(), "vps-first-"));
    const env = { DATABASE_URL: "", VPS_ADMIN_TOKEN: "", VPS_BOOTSTRAP_TOKEN: "" };
    try {
      env.DATABASE_URL = await freshDatabaseUrl(fresh);
      const first = await spawnServer(env);
      first.child.kill("SIGTERM");
      await first.exited;
      const shown = first.stderr();
      const admin = /Admin token \(VPS_ADMIN_TOKEN\): +(\S+)/.exec(shown)?.[1];
      const owner = /API token of owner@localhost: +(\S+)/.exec(shown)?.[1];
      assert.ok(admin && owner, `both tokens shown: ${shown}`);

      const second = await spawnServer(env);
      try {
        assert.equal(second.stderr(), "", "nothing is shown again on the next start");
        assert.equal((await client(second.url, owner).get("/api/v1/account/")).body.balance, "100.00");
        assert.equal((await client(second.url, admin).get("/api/v1/admin/accounts/")).body.count, 1);
      } finally {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    } finally {
      await dropDatabase(env.DATABASE_URL);
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
