import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { spawnServer } from "../support/spawned-server.ts";
import { dropDatabase, freshDatabaseUrl, inspectDatabase } from "../support/test-database.ts";

const TOKEN = "shutdown-token-0123456789abcdef";

describe("graceful shutdown on SIGTERM", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-shutdown-"));
  const env = {
    DATABASE_URL: "",
    VPS_BOOTSTRAP_TOKEN: TOKEN,
    VPS_ADMIN_TOKEN: "shutdown-admin-0123456789abcdef",
    VPS_SIM_DELAY_MS: "800",
    VPS_WORKER_CONCURRENCY: "1",
  };

  before(async () => {
    env.DATABASE_URL = await freshDatabaseUrl(dir);
  });
  after(async () => {
    await dropDatabase(env.DATABASE_URL);
    rmSync(dir, { recursive: true, force: true });
  });

  it("finishes the running operation, claims no new one, exits 0, and the next start carries on", async () => {
    const server = await spawnServer(env);
    const api = client(server.url, TOKEN);
    const first = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "first" });
    const second = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "second" });
    await server.waitForLog((l) => l.msg === "operation started" && l.server === first.body.id);

    // Over a keep-alive connection (fetch keeps one), which must not hold the exit for its 72 s timeout.
    const inFlight = api.get("/api/v1/servers/");
    server.child.kill("SIGTERM");
    assert.equal((await inFlight).status, 200, "a request in flight at the signal is answered");
    const exit = await Promise.race([
      server.exited,
      new Promise((resolve) => setTimeout(() => resolve("still running after 30 s"), 30_000).unref()),
    ]);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(server.logs.some((l) => l.msg === "stopped cleanly"));

    const inspect = await inspectDatabase(env.DATABASE_URL);
    const rows = (
      await inspect.db
        .selectFrom("servers as s")
        .innerJoin("operations as o", "o.server_id", "s.id")
        .select(["s.name", "s.status", "o.status as op"])
        .orderBy("s.id")
        .execute()
    ).map((r) => ({ ...r }));
    await inspect.close();
    assert.deepEqual(rows, [
      { name: "first", status: "active", op: "succeeded" },
      { name: "second", status: "provisioning", op: "pending" },
    ]);

    const restarted = await spawnServer(env);
    try {
      await waitForStatus(client(restarted.url, TOKEN), second.body.id, "active");
    } finally {
      restarted.child.kill("SIGTERM");
      await restarted.exited;
    }
  });
});
