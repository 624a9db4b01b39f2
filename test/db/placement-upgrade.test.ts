import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { SimDriver } from "../../src/drivers/sim/sim-driver.ts";
import { SimMachineStore } from "../../src/drivers/sim/sim-machine-store.ts";
import { EmbeddedHosts } from "../../src/engine/embedded-hosts.ts";
import { suiteDatabase } from "../support/test-database.ts";

// A laptop upgraded to placement: its servers were made before migration 0015, so none names a host. The
// embedded host of each location adopts them when it is first registered, holding each one's plan, so they
// keep running where they are and a delete frees what they hold.

describe("upgrade to placement: servers made before migration 0015", () => {
  const suite = suiteDatabase();

  it("are placed on their location's embedded host when it is registered, once, whichever process registers it", async () => {
    const { db } = suite.database;
    const now = new Date().toISOString();
    const account = await db
      .insertInto("accounts")
      .values({
        email: "old@example.com",
        balance_minor: 10_000,
        currency: "USD",
        created_at: now,
        updated_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // As a create made them before 0015: no host. us-west 1, us-east 2 (ids of the seeded catalogue).
    const server = async (plan_id: number, location_id: number, deleted = false) =>
      (
        await db
          .insertInto("servers")
          .values({
            account_id: account.id,
            name: `old-${plan_id}-${location_id}`,
            hostname: null,
            status: deleted ? "deleting" : "active",
            plan_id,
            os_id: 3,
            location_id,
            ssh_key_id: null,
            ssh_public_key: null,
            backups_enabled: 0,
            created_at: now,
            updated_at: now,
            deleted_at: deleted ? now : null,
            billed_until: now,
          })
          .returning("id")
          .executeTakeFirstOrThrow()
      ).id;
    const standard = await server(1, 1); // 2 vCPUs, 4096 MB, 80 GB
    const starter = await server(3, 1); // 1 vCPU, 1024 MB, 25 GB
    const east = await server(3, 2);
    const gone = await server(1, 1, true);

    const repos = new Repositories(db);
    const aProcess = () =>
      new EmbeddedHosts({
        repos,
        driver: new SimDriver({ machines: new SimMachineStore(db), clock: systemClock, delayMs: 0 }),
        clock: systemClock,
        log: pino({ level: "silent" }),
        downAfterMs: 30_000,
        version: "0.1.0",
      });
    // Two processes on one database start together, then beat again: the servers are adopted once.
    await Promise.all([aProcess().beat(), aProcess().beat()]);
    await aProcess().beat();

    const hosts = new Map(
      (await db.selectFrom("hosts").selectAll().execute()).map((host) => [host.name, host]),
    );
    const west = hosts.get("sim-us-west");
    const eastHost = hosts.get("sim-us-east");
    assert.ok(west && eastHost && hosts.has("sim-eu-central"));
    const hostOf = new Map(
      (await db.selectFrom("servers").select(["id", "host_id"]).execute()).map((s) => [s.id, s.host_id]),
    );
    assert.equal(hostOf.get(standard), west.id);
    assert.equal(hostOf.get(starter), west.id);
    assert.equal(hostOf.get(east), eastHost.id);
    assert.equal(hostOf.get(gone), null, "a deleted server's machine is being destroyed: it holds nothing");
    assert.deepEqual(
      [Number(west.vcpus_allocated), Number(west.memory_mb_allocated), Number(west.disk_gb_allocated)],
      [3, 5120, 105],
    );
    assert.equal(west.server_count, 2);
    assert.equal(Number(eastHost.memory_mb_allocated), 1024);

    // What was adopted is freed like any placement.
    assert.deepEqual(
      { ...(await repos.hostAllocations.release(standard, now)), created_at: "" },
      { server_id: standard, host_id: west.id, vcpus: 2, memory_mb: 4096, disk_gb: 80, created_at: "" },
    );
  });
});
