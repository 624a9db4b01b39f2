import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { spawnServer } from "../support/spawned-server.ts";

const TOKEN = "shutdown-token-0123456789abcdef";

describe("graceful shutdown on SIGTERM", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-shutdown-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    DATABASE_URL: join(dir, "vps.db"),
    VPS_BOOTSTRAP_TOKEN: TOKEN,
    VPS_ADMIN_TOKEN: "shutdown-admin-0123456789abcdef",
    VPS_SIM_DELAY_MS: "800",
    VPS_WORKER_CONCURRENCY: "1",
  };

  it("finishes the running operation, claims no new one, exits 0, and the next start carries on", async () => {
    const server = await spawnServer(env);
    const api = client(server.url, TOKEN);
    const first = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "first" });
    const second = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "second" });
    await server.waitForLog((l) => l.msg === "operation started" && l.server === first.body.id);

    const inFlight = api.get("/api/v1/servers/");
    server.child.kill("SIGTERM");
    assert.equal((await inFlight).status, 200, "a request in flight at the signal is answered");
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.ok(server.logs.some((l) => l.msg === "stopped cleanly"));

    const db = new DatabaseSync(env.DATABASE_URL, { readOnly: true });
    const rows = db
      .prepare(
        "select s.name, s.status, o.status as op from servers s join operations o on o.server_id = s.id order by s.id",
      )
      .all()
      .map((r) => ({ ...r }));
    db.close();
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
