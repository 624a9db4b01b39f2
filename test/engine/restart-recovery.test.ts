import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { type Client, client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { type SpawnedServer, spawnServer } from "../support/spawned-server.ts";

const TOKEN = "recovery-token-0123456789abcdef";

/** The durable engine's promise: killing the process mid-operation loses nothing and does nothing twice. */
describe("recovery after the process is killed with SIGKILL", () => {
  let dir: string;
  let env: Record<string, string>;
  let server: SpawnedServer;
  let api: Client;
  let db: DatabaseSync;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-recovery-"));
    env = {
      DATABASE_URL: join(dir, "vps.db"),
      VPS_BOOTSTRAP_TOKEN: TOKEN,
      VPS_ADMIN_TOKEN: "recovery-admin-0123456789abcdef",
      VPS_SIM_DELAY_MS: "1500",
      VPS_POWER_SYNC_MS: "60000",
    };
    server = await spawnServer(env);
    api = client(server.url, TOKEN);
    db = new DatabaseSync(env.DATABASE_URL as string, { readOnly: true });
  });

  after(async () => {
    db.close();
    server.child.kill("SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  async function killMidOperation(kind: string, serverId: number): Promise<void> {
    await server.waitForLog((l) => l.msg === "operation started" && l.kind === kind && l.server === serverId);
    server.child.kill("SIGKILL");
    assert.equal((await server.exited).signal, "SIGKILL");
  }

  async function restart(): Promise<void> {
    server = await spawnServer(env, Number(new URL(server.url).port));
    api = client(server.url, TOKEN);
  }

  const operations = (serverId: number) =>
    db
      .prepare("select kind, status from operations where server_id = ? order by id")
      .all(serverId)
      .map((row) => ({ ...row }));
  const machine = (serverId: number) =>
    db.prepare("select power, boot_count from sim_machines where id = ?").get(String(serverId)) as
      | { power: string; boot_count: number }
      | undefined;

  it("a server killed in the middle of provisioning is active after the restart, built once", async () => {
    const created = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201);
    const id = created.body.id;
    await killMidOperation("create", id);
    assert.equal(machine(id), undefined, "the machine was not built before the kill");

    await restart();
    await server.waitForLog((l) => l.msg === "resumed operations of a stopped worker");
    const detail = await waitForStatus(api, id, "active", 20_000);
    assert.match(detail.ip_address, /^203\.0\.113\./);
    assert.deepEqual(operations(id), [{ kind: "create", status: "succeeded" }]);
    assert.deepEqual({ ...machine(id) }, { power: "running", boot_count: 1 });
    const held = db.prepare("select count(*) as n from ip_addresses where server_id = ?").get(id) as {
      n: number;
    };
    assert.equal(held.n, 2, "one IPv4 and one IPv6 address, not more");
  });

  it("a server killed in the middle of a stop is stopped after the restart, stopped once", async () => {
    const list = await api.get("/api/v1/servers/");
    const id = list.body.results[0].id;
    const stop = await api.post(`/api/v1/servers/${id}/stop/`);
    assert.equal(stop.status, 200);
    await killMidOperation("stop", id);
    assert.equal(machine(id)?.power, "running", "the machine was still running at the kill");

    await restart();
    await waitForStatus(api, id, "stopped", 20_000);
    assert.deepEqual(operations(id), [
      { kind: "create", status: "succeeded" },
      { kind: "stop", status: "succeeded" },
    ]);
    assert.deepEqual({ ...machine(id) }, { power: "stopped", boot_count: 1 });
    const unfinished = db
      .prepare("select count(*) as n from operations where status in ('pending', 'running')")
      .get() as {
      n: number;
    };
    assert.equal(unfinished.n, 0);
  });
});
