import assert from "node:assert/strict";
import { it } from "node:test";
import { client } from "../support/client.ts";
import { type Backend, clusterSuite, POSTGRES_SKIP } from "../support/process-cluster.ts";

// Placement claims a host's room with one conditional UPDATE in the create's transaction: however many
// creates reach however many processes at once, no host goes over capacity and every refusal writes nothing.

const OWNER_TOKEN = "placement-owner-0123456789abcdef";
const ADMIN_TOKEN = "placement-admin-0123456789abcdef";
const ENV = {
  VPS_ADMIN_TOKEN: ADMIN_TOKEN,
  VPS_BOOTSTRAP_TOKEN: OWNER_TOKEN,
  VPS_BOOTSTRAP_CREDIT: "1000.00",
  // Only the hosts registered below; they have no agent to heartbeat yet, so their join must stay fresh.
  VPS_EMBEDDED_HOSTS: "off",
  VPS_HOST_DOWN_AFTER_MS: "3600000",
  VPS_SIM_DELAY_MS: "200",
  VPS_POLL_MS: "200",
  VPS_POWER_SYNC_MS: "60000",
};
const REQUESTS = 200;
// Starter VPS (plan 3): 1 vCPU, 1024 MB, 25 GB, 0.01 an hour. Memory is what runs out: 20 + 30 servers.
const PLAN = { vcpus: 1, memory_mb: 1024, disk_gb: 25 };
const HOST_MEMORY = [20 * 1024, 30 * 1024];
const FITS = 50;

function suite(title: string, backend: Backend, size: number, skip: string | false): void {
  clusterSuite(title, { backend, size, env: ENV, skip }, (cluster) => {
    it(`${REQUESTS} simultaneous creates across the processes against hosts with room for ${FITS}: exactly ${FITS} created, the rest 409 no_capacity, no host over capacity`, async (t) => {
      const c = cluster();
      const admin = client(c.urls[0] as string, ADMIN_TOKEN);
      const owner = client(c.urls[0] as string, OWNER_TOKEN);
      const hostIds: number[] = [];
      for (const [i, memory_mb] of HOST_MEMORY.entries()) {
        const registered = await admin.post("/api/v1/admin/hosts/", {
          name: `hv${i}`,
          location: "eu-central",
        });
        assert.equal(registered.status, 201, registered.text);
        const joined = await admin.post("/api/v1/agent/join", {
          join_token: registered.body.join_token,
          capacity: { vcpus: 16, memory_mb, disk_gb: 10_000 },
          agent_version: "0.1.0",
          driver: "sim",
        });
        assert.equal(joined.status, 201, joined.text);
        hostIds.push(registered.body.host.id);
      }

      const outcomes = await Promise.all(
        Array.from({ length: REQUESTS }, (_, i) =>
          c.send(
            "POST",
            "/api/v1/servers/",
            OWNER_TOKEN,
            { name: `placed-${i}`, plan_id: 3, os_id: 3, location: "eu-central" },
            { slot: i % c.size, timeoutMs: 90_000, deadlineMs: 90_000 },
          ),
        ),
      );
      const answers = outcomes.map((o) =>
        o.kind === "response" ? `${o.status}${o.status === 201 ? "" : ` ${o.body?.error?.code}`}` : o.kind,
      );
      const tally = Object.fromEntries(
        [...new Set(answers)].sort().map((a) => [a, answers.filter((x) => x === a).length]),
      );
      t.diagnostic(`${backend}, ${c.size} process(es): ${JSON.stringify(tally)}`);
      assert.deepEqual(tally, { "201": FITS, "409 no_capacity": REQUESTS - FITS });
      const served = new Set(outcomes.flatMap((o) => (o.kind === "response" ? [o.slot] : [])));
      assert.equal(served.size, c.size, "every process answered some of the creates");

      const accepted = outcomes.flatMap((o) =>
        o.kind === "response" && o.status === 201 ? [o.body.id] : [],
      );
      const hosts = await c.db.selectFrom("hosts").selectAll().where("id", "in", hostIds).execute();
      for (const host of hosts) {
        assert.ok(
          Number(host.memory_mb_allocated) <= Number(host.memory_mb_total),
          `${host.name} within memory`,
        );
        assert.ok(Number(host.vcpus_allocated) <= Number(host.vcpus_total) * 4, `${host.name} within vCPUs`);
        assert.ok(Number(host.disk_gb_allocated) <= Number(host.disk_gb_total), `${host.name} within disk`);
      }
      const sum = (key: "vcpus_allocated" | "memory_mb_allocated" | "disk_gb_allocated") =>
        hosts.reduce((total, host) => total + Number(host[key]), 0);
      assert.deepEqual(
        {
          vcpus: sum("vcpus_allocated"),
          memory_mb: sum("memory_mb_allocated"),
          disk_gb: sum("disk_gb_allocated"),
        },
        { vcpus: FITS * PLAN.vcpus, memory_mb: FITS * PLAN.memory_mb, disk_gb: FITS * PLAN.disk_gb },
        "the allocations are the accepted servers' plans",
      );
      assert.equal(
        hosts.reduce((n, host) => n + host.server_count, 0),
        FITS,
      );

      // Each accepted server lives on one of the hosts; nothing of a refused create was written or charged.
      const servers = await c.db.selectFrom("servers").select(["id", "host_id"]).execute();
      assert.deepEqual(servers.map((s) => s.id).sort(), [...accepted].sort());
      assert.ok(servers.every((s) => s.host_id !== null && hostIds.includes(s.host_id)));
      const operations = await c.db.selectFrom("operations").select("id").execute();
      assert.equal(operations.length, FITS);
      // A create writes its addresses, ledger entries and month before its claim: a refused one leaves none.
      const ids = (rows: { server_id: number | null }[]) => [...new Set(rows.map((r) => r.server_id))].sort();
      const addresses = c.db
        .selectFrom("ip_addresses")
        .select("server_id")
        .where("server_id", "is not", null);
      assert.deepEqual(ids(await addresses.execute()), [...accepted].sort());
      const entries = c.db
        .selectFrom("ledger_entries")
        .select("server_id")
        .where("server_id", "is not", null);
      assert.deepEqual(ids(await entries.execute()), [...accepted].sort());
      assert.deepEqual(
        ids(await c.db.selectFrom("server_months").select("server_id").execute()),
        [...accepted].sort(),
      );
      assert.deepEqual(
        ids(await c.db.selectFrom("host_allocations").select("server_id").execute()),
        [...accepted].sort(),
      );
      const counted = await c.db.selectFrom("server_counts").select("n").execute();
      assert.equal(
        counted.reduce((n, row) => n + Number(row.n), 0),
        FITS,
        "the counts are the accepted servers",
      );
      assert.equal((await owner.get("/api/v1/account/")).body.balance, "999.50");
    });
  });
}

suite("placement under contention: three processes on PostgreSQL", "postgres", 3, POSTGRES_SKIP);
suite("placement under contention: one process on SQLite", "sqlite", 1, false);
