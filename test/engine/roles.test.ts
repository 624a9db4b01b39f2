import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { type SpawnedServer, spawnServer } from "../support/spawned-server.ts";
import { dropDatabase, freshDatabaseUrl, POSTGRES_SERVER_URL } from "../support/test-database.ts";

const TOKEN = "roles-owner-token-0123456789abcdef";

/** The same program as API only and as worker only, sharing one database: a provider's N + M processes. */
describe("API-only and worker-only processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-roles-"));
  const processes: SpawnedServer[] = [];
  let databaseUrl: string;
  let api: SpawnedServer;
  let worker: SpawnedServer;

  before(async () => {
    databaseUrl = await freshDatabaseUrl(dir);
    const env = {
      DATABASE_URL: databaseUrl,
      VPS_BOOTSTRAP_TOKEN: TOKEN,
      VPS_ADMIN_TOKEN: "roles-admin-token-0123456789abcdef",
      VPS_SIM_DELAY_MS: "50",
      // Without PostgreSQL's NOTIFY, a worker in another process learns of new work from its poll.
      VPS_POLL_MS: POSTGRES_SERVER_URL ? "60000" : "100",
    };
    worker = await spawnServer({ ...env, VPS_ROLE: "worker" });
    processes.push(worker);
    api = await spawnServer({ ...env, VPS_ROLE: "api" });
    processes.push(api);
  });

  after(async () => {
    for (const p of processes) {
      p.child.kill("SIGTERM");
      await p.exited;
    }
    await dropDatabase(databaseUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves requests in the API process and runs their operations in the worker process", async () => {
    const owner = client(api.url, TOKEN);
    const created = await owner.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201);
    await waitForStatus(owner, created.body.id, "active", 15_000);
    assert.equal((await owner.post(`/api/v1/servers/${created.body.id}/stop/`)).status, 200);
    await waitForStatus(owner, created.body.id, "stopped", 15_000);

    // The status is committed before the worker logs the operation's end: wait for that line, not just the status.
    await worker.waitForLog((l) => l.msg === "operation finished" && l.kind === "stop");
    const ran = (p: SpawnedServer) => p.logs.filter((l) => l.msg === "operation finished").map((l) => l.kind);
    assert.deepEqual(ran(worker), ["create", "stop"]);
    assert.deepEqual(ran(api), [], "the API process runs no operation");
    assert.ok(api.logs.some((l) => l.msg === "ready" && l.role === "api"));
  });

  it("does not serve HTTP from the worker process", async () => {
    const ready = worker.logs.find((l) => l.msg === "ready");
    assert.equal(ready?.role, "worker");
    assert.equal(ready?.port, undefined);
    await assert.rejects(fetch(`${worker.url}/healthz`));
  });
});
