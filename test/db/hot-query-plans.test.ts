import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { type CompiledQuery, Kysely } from "kysely";
import { openDatabase } from "../../src/db/database.ts";
import { NodeSqliteDialect } from "../../src/db/node-sqlite-dialect.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { Database } from "../../src/db/schema.ts";
import { SimMachineStore } from "../../src/drivers/sim/sim-machine-store.ts";

// Every request and every engine step runs these queries: none may read a whole table or sort its rows, or
// its cost would grow with the number of servers and operations. Checked on SQLite's plans.
describe("the hot queries' plans", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-plans-"));
  const file = join(dir, "vps.db");
  const seen: CompiledQuery[] = [];
  let db: Kysely<Database>;
  let repos: Repositories;
  before(async () => {
    await (await openDatabase(file)).close();
    db = new Kysely<Database>({
      dialect: new NodeSqliteDialect(file),
      log: (event) => {
        if (event.level === "query") seen.push(event.query);
      },
    });
    repos = new Repositories(db);
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function plansOf(run: (repos: Repositories) => Promise<unknown>): Promise<string[]> {
    seen.length = 0;
    await run(repos);
    const raw = new DatabaseSync(file);
    try {
      return seen.flatMap((query) =>
        (
          raw.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as never[])) as {
            detail: string;
          }[]
        ).map((row) => row.detail),
      );
    } finally {
      raw.close();
    }
  }

  const BIG = /^(SCAN|SEARCH) (servers|operations|ip_addresses|api_tokens|server_counts|sim_machines)\b/;
  function assertIndexed(plans: string[]): void {
    assert.ok(plans.length > 0);
    for (const step of plans) {
      assert.doesNotMatch(
        step,
        /^SCAN (servers|operations|ip_addresses|api_tokens|server_counts|sim_machines|q|o)\b/,
        step,
      );
      assert.doesNotMatch(step, /TEMP B-TREE/, step);
      if (BIG.test(step))
        assert.match(step, /USING (INTEGER PRIMARY KEY|PRIMARY KEY|(COVERING )?INDEX)/, step);
    }
  }

  const now = new Date().toISOString();
  const cases: [string, (repos: Repositories) => Promise<unknown>][] = [
    ["token lookup", (r) => r.tokens.findActiveByHash("0".repeat(64))],
    ["server detail", (r) => r.servers.findDetails(1, 12345)],
    ["page of servers", (r) => r.servers.list(1, {}, 50, 0)],
    ["page by status", (r) => r.servers.list(1, { status: "active" }, 50, 0)],
    ["page by location", (r) => r.servers.list(1, { locationId: 1 }, 50, 0)],
    ["page by status and location", (r) => r.servers.list(1, { status: "active", locationId: 1 }, 50, 0)],
    ["count", (r) => r.servers.count(1, {})],
    ["count by status and location", (r) => r.servers.count(1, { status: "active", locationId: 1 })],
    ["claim", (r) => r.operations.claim("worker", [1], now, now, 8)],
    ["claim for several hosts", (r) => r.operations.claim("worker", [1, 2, 3], now, now, 8)],
    ["next due", (r) => r.operations.nextDue(now, [1])],
    ["hosts with due work, to wake their waiting claims", (r) => r.operations.hostsWithDueWork(now, 1000)],
    // What a claimed batch carries: its servers with their addresses.
    ["claimed servers", (r) => r.operations.claimedServers([12345, 12346, 12347])],
    // Every create takes its first free address of its location.
    ["address allocation", (r) => r.addresses.allocate(12345, 1, 4, now)],
    // The sim driver reads its machine on every step and every power sync.
    ["sim machine", (r) => new SimMachineStore(r.db).find("12345")],
    ["sim machine update", (r) => new SimMachineStore(r.db).update("12345", { power: "running" })],
  ];
  for (const [name, run] of cases) {
    it(`${name} reads through an index`, async () => assertIndexed(await plansOf(run)));
  }

  // Every create reads its location's candidate hosts: through the index of hosts by location, never the
  // whole table. Their order is a computed weight, so they are sorted: only that location's hosts.
  it("placement's candidate hosts are read through the index of their location", async () => {
    const request = { vcpus: 1, memory_mb: 1024, disk_gb: 25 };
    for (const image of [undefined, "debian-12.qcow2"]) {
      const plans = await plansOf((r) => r.hostAllocations.candidates(1, request, "spread", now, image, 5));
      assert.ok(
        plans.some((step) => /^SEARCH hosts USING INDEX hosts_location \(location_id=\?/.test(step)),
        plans.join("\n"),
      );
      for (const step of plans) assert.doesNotMatch(step, /^SCAN hosts\b/, step);
    }
  });
});
