import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { OpenDatabase } from "../../src/db/database.ts";
import { type Client, client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { type SpawnedServer, spawnServer } from "../support/spawned-server.ts";
import { dropDatabase, freshDatabaseUrl, inspectDatabase } from "../support/test-database.ts";

const TOKEN = "recovery-token-0123456789abcdef";

/** The durable engine's promise: killing the process mid-operation loses nothing and does nothing twice. */
describe("recovery after the process is killed with SIGKILL", () => {
  let dir: string;
  let env: Record<string, string>;
  let server: SpawnedServer;
  let api: Client;
  let inspect: OpenDatabase;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-recovery-"));
    env = {
      DATABASE_URL: await freshDatabaseUrl(dir),
      VPS_BOOTSTRAP_TOKEN: TOKEN,
      VPS_ADMIN_TOKEN: "recovery-admin-0123456789abcdef",
      VPS_SIM_DELAY_MS: "1500",
      VPS_POWER_SYNC_MS: "60000",
    };
    server = await spawnServer(env);
    api = client(server.url, TOKEN);
    inspect = await inspectDatabase(env.DATABASE_URL as string);
  });

  after(async () => {
    await inspect.close();
    server.child.kill("SIGKILL");
    await server.exited;
    await dropDatabase(env.DATABASE_URL as string);
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

  const operations = async (serverId: number) =>
    (
      await inspect.db
        .selectFrom("operations")
        .select(["kind", "status"])
        .where("server_id", "=", serverId)
        .orderBy("id")
        .execute()
    ).map((row) => ({ ...row }));
  const machine = async (serverId: number) => {
    const row = await inspect.db
      .selectFrom("sim_machines")
      .select(["power", "boot_count"])
      .where("id", "=", String(serverId))
      .executeTakeFirst();
    return row && { ...row };
  };

  it("a server killed in the middle of provisioning is active after the restart, built once", async () => {
    const created = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201);
    const id = created.body.id;
    await killMidOperation("create", id);
    assert.equal(await machine(id), undefined, "the machine was not built before the kill");

    await restart();
    await server.waitForLog((l) => l.msg === "resumed operations of a stopped worker");
    const detail = await waitForStatus(api, id, "active", 20_000);
    assert.match(detail.ip_address, /^203\.0\.113\./);
    assert.deepEqual(await operations(id), [{ kind: "create", status: "succeeded" }]);
    assert.deepEqual(await machine(id), { power: "running", boot_count: 1 });
    const held = await inspect.db
      .selectFrom("ip_addresses")
      .select("address")
      .where("server_id", "=", id)
      .execute();
    assert.equal(held.length, 2, "one IPv4 and one IPv6 address, not more");
  });

  it("a server killed in the middle of a stop is stopped after the restart, stopped once", async () => {
    const list = await api.get("/api/v1/servers/");
    const id = list.body.results[0].id;
    const stop = await api.post(`/api/v1/servers/${id}/stop/`);
    assert.equal(stop.status, 200);
    await killMidOperation("stop", id);
    assert.equal((await machine(id))?.power, "running", "the machine was still running at the kill");

    await restart();
    await waitForStatus(api, id, "stopped", 20_000);
    assert.deepEqual(await operations(id), [
      { kind: "create", status: "succeeded" },
      { kind: "stop", status: "succeeded" },
    ]);
    assert.deepEqual(await machine(id), { power: "stopped", boot_count: 1 });
    const unfinished = await inspect.db
      .selectFrom("operations")
      .select("id")
      .where("status", "in", ["pending", "running"])
      .execute();
    assert.equal(unfinished.length, 0);
  });
});
