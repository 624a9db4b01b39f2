import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { imagesOf, inventoryOf } from "../../src/db/repositories/host-repository.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { type Amounts, fits, RESOURCES } from "../../src/domain/host-capacity.ts";
import { freshSince, hasImage, weigh } from "../../src/domain/host-placement.ts";
import { suiteDatabase } from "../support/test-database.ts";

const PLAN: Amounts = { vcpus: 2, memory_mb: 2048, disk_gb: 40 };
const NOTHING: Amounts = { vcpus: 0, memory_mb: 0, disk_gb: 0 };
const US_WEST = 1;
const US_EAST = 2;
const EU = 3;

describe("capacity claims on hosts", () => {
  const suite = suiteDatabase();
  let repos: Repositories;
  /** Other pools of connections to the same database (PostgreSQL), as other API processes would hold. */
  const others: OpenDatabase[] = [];
  const now = () => new Date().toISOString();
  const since = () => freshSince(new Date());

  async function addHost(
    name: string,
    locationId: number,
    capacity: Amounts,
    options: { heartbeat?: string; state?: "disabled" | "draining" } = {},
  ): Promise<number> {
    const host = await repos.hosts.create(name, locationId, `digest-of-${name}`, now(), now());
    assert.ok(host);
    await repos.hosts.recordReport(host.id, capacity, "1.0.0", "sim", options.heartbeat ?? now());
    if (options.state) assert.ok(await repos.hosts.setState(host.id, "enabled", options.state, now()));
    return host.id;
  }

  async function addLocation(code: string): Promise<number> {
    const row = await suite.database.db
      .insertInto("locations")
      .values({ code, name: code, country: "DE" })
      .returning("id")
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Until some session of this database waits for a row lock. */
  async function waitForLockWait(): Promise<void> {
    for (;;) {
      const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`.execute(suite.database.db);
      if (Number(rows[0]?.n) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function hostRow(id: number) {
    const host = await repos.hosts.findById(id);
    assert.ok(host);
    return host;
  }

  before(async () => {
    repos = new Repositories(suite.database.db);
    // node:sqlite waits for another connection's lock synchronously, blocking the very process that holds it:
    // one process has one SQLite connection, and processes are the concern of the cluster tests.
    if (suite.database.dialect !== "postgres") return;
    for (let i = 0; i < 4; i++) others.push(await openDatabase(suite.database.url, 5));
  });
  after(async () => {
    for (const db of others) await db.close();
  });

  it("accepts exactly as many of 200 concurrent claims as the hosts hold, and no more", async () => {
    // By memory, the three us-west hosts hold 8 + 16 + 26 = 50 servers of the plan; CPUs and disks hold more.
    const fitting = [
      await addHost("west-1", US_WEST, { vcpus: 64, memory_mb: 16_384, disk_gb: 10_000 }),
      await addHost("west-2", US_WEST, { vcpus: 64, memory_mb: 32_768, disk_gb: 10_000 }),
      await addHost("west-3", US_WEST, { vcpus: 64, memory_mb: 53_248, disk_gb: 10_000 }),
    ];
    const big = { vcpus: 1000, memory_mb: 1_000_000, disk_gb: 100_000 };
    const excluded = [
      await addHost("west-disabled", US_WEST, big, { state: "disabled" }),
      await addHost("west-draining", US_WEST, big, { state: "draining" }),
      await addHost("west-silent", US_WEST, big, { heartbeat: "2020-01-01T00:00:00.000Z" }),
      await addHost("east-1", US_EAST, big),
    ];
    const connections = [repos, ...others.map((o) => new Repositories(o.db))];

    const claims = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const via = connections[i % connections.length] as Repositories;
        return via.hostAllocations.claim(1000 + i, US_WEST, PLAN, "spread", since(), now());
      }),
    );
    const accepted = claims.filter((c) => c !== undefined);
    assert.equal(accepted.length, 50);

    for (const id of excluded) {
      const host = await hostRow(id);
      assert.equal(host.server_count, 0, host.name);
      assert.equal(host.memory_mb_allocated, 0, host.name);
    }
    for (const id of fitting) {
      const host = await hostRow(id);
      const held = accepted.filter((c) => c.host_id === id);
      assert.equal(host.server_count, held.length, host.name);
      for (const r of RESOURCES) {
        assert.equal(
          host[`${r}_allocated`],
          held.reduce((sum, c) => sum + c[r], 0),
          `${host.name} ${r}`,
        );
      }
      assert.ok(fits(inventoryOf(host), NOTHING), `${host.name} is not over capacity`);
      assert.equal(fits(inventoryOf(host), PLAN), false, `${host.name} is full`);
    }
  });

  it("keeps a server's claim when it is claimed again, and answers nothing where no host has room", async () => {
    const again = await repos.hostAllocations.claim(1000, US_WEST, PLAN, "spread", since(), now());
    const first = await repos.hostAllocations.findAllocation(1000);
    assert.deepEqual(again, first);
    assert.equal(await repos.hostAllocations.claim(5000, US_WEST, PLAN, "spread", since(), now()), undefined);
    assert.equal(
      await repos.hostAllocations.claim(5001, EU, PLAN, "spread", since(), now()),
      undefined,
      "no host at all",
    );
  });

  it("frees exactly what each server held, once, however many times and from however many connections", async () => {
    const held = await suite.database.db.selectFrom("host_allocations").selectAll().execute();
    assert.equal(held.length, 50);
    const connections = [repos, ...others.map((o) => new Repositories(o.db))];
    const freed = await Promise.all(
      [...held, ...held, ...held].map((a, i) =>
        (connections[i % connections.length] as Repositories).hostAllocations.release(a.server_id, now()),
      ),
    );
    assert.equal(freed.filter((f) => f !== undefined).length, 50);
    const hosts = await suite.database.db.selectFrom("hosts").selectAll().execute();
    for (const host of hosts) {
      assert.equal(host.server_count, 0, host.name);
      for (const r of RESOURCES) assert.equal(host[`${r}_allocated`], 0, `${host.name} ${r}`);
    }
    assert.equal(await repos.hostAllocations.release(1000, now()), undefined);
    // The room is there again.
    assert.ok(await repos.hostAllocations.claim(6000, US_WEST, PLAN, "spread", since(), now()));
    assert.ok(await repos.hostAllocations.release(6000, now()));
  });

  it("spreads to the host with the most free memory by default, or packs onto the fullest", async () => {
    const small = await addHost("east-small", US_EAST, { vcpus: 8, memory_mb: 8192, disk_gb: 500 });
    const east = await suite.database.db
      .selectFrom("hosts")
      .select("id")
      .where("name", "=", "east-1")
      .executeTakeFirstOrThrow();
    const spread = await repos.hostAllocations.claim(7000, US_EAST, PLAN, "spread", since(), now());
    assert.equal(spread?.host_id, east.id);
    const pack = await repos.hostAllocations.claim(7001, US_EAST, PLAN, "pack", since(), now());
    assert.equal(pack?.host_id, small);
  });

  it("takes the next hosts when a concurrent transaction filled every host the claim read first", async (t) => {
    // node:sqlite has one connection: no claim runs beside another transaction there.
    if (suite.database.dialect !== "postgres") return t.skip("needs concurrent connections (PostgreSQL)");
    // Seven hosts, more than a claim reads at once; spread tries the one with the most free memory first.
    const location = await addLocation("claims-next");
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(await addHost(`next-${i}`, location, { vcpus: 64, memory_mb: 65_536 - i, disk_gb: 10_000 }));
    }
    const [first, second] = others as [OpenDatabase, OpenDatabase];
    const { claim } = await first.db.transaction().execute(async (tx) => {
      // The first five fill up in a transaction still open when the claim reads them: it sees their room,
      // and its UPDATE of each waits for this commit, then finds it full.
      await tx
        .updateTable("hosts")
        .set((eb) => ({ memory_mb_allocated: eb.ref("memory_mb_total") }))
        .where("id", "in", ids.slice(0, 5))
        .execute();
      const claim = new Repositories(second.db).hostAllocations.claim(
        30_000,
        location,
        PLAN,
        "spread",
        since(),
        now(),
      );
      await waitForLockWait();
      return { claim }; // not awaited here: it waits for this commit
    });
    assert.equal((await claim)?.host_id, ids[5]);
  });

  it("filters and orders candidates in SQL exactly as the domain's fit rule, image filter and weigher do", async () => {
    const location = await addLocation("claims-rule");
    const IMAGE = "debian-12.qcow2";
    // Each host's inventory at an edge of the rule: exact fits, one unit short, ratios in thousandths,
    // reserved beyond the total, amounts whose products outgrow 32 bits, over-committed.
    const table: {
      name: string;
      total: Amounts;
      reserved?: Partial<Amounts>;
      ratios?: Partial<Amounts>;
      allocated?: Amounts;
      images?: string[];
    }[] = [
      { name: "exact", total: { vcpus: 2, memory_mb: 2048, disk_gb: 40 } },
      { name: "memory-short", total: { vcpus: 2, memory_mb: 2047, disk_gb: 40 } },
      { name: "disk-short", total: { vcpus: 8, memory_mb: 8192, disk_gb: 39 } },
      { name: "cpu-ratio", total: { vcpus: 1, memory_mb: 4096, disk_gb: 100 }, ratios: { vcpus: 1500 } },
      {
        name: "cpu-ratio-short",
        total: { vcpus: 1, memory_mb: 4096, disk_gb: 100 },
        ratios: { vcpus: 1999 },
      },
      {
        name: "memory-thousandths",
        total: { vcpus: 4, memory_mb: 1000, disk_gb: 100 },
        ratios: { memory_mb: 2049 },
        allocated: { vcpus: 0, memory_mb: 1, disk_gb: 0 },
      },
      {
        name: "reserved",
        total: { vcpus: 4, memory_mb: 4096, disk_gb: 100 },
        reserved: { memory_mb: 2048 },
        allocated: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
      },
      {
        name: "reserved-beyond-total",
        total: { vcpus: 4, memory_mb: 1024, disk_gb: 100 },
        reserved: { memory_mb: 2048 },
      },
      {
        name: "huge",
        total: { vcpus: 100_000, memory_mb: 1_000_000_000, disk_gb: 1_000_000_000 },
        ratios: { vcpus: 1_000_000, memory_mb: 1_000_000, disk_gb: 1_000_000 },
        // 10^12 MB usable, 10^9 of it free: the last request below fits exactly.
        allocated: { vcpus: 0, memory_mb: 999_000_000_000, disk_gb: 0 },
      },
      {
        name: "huge-short",
        total: { vcpus: 100_000, memory_mb: 1_000_000_000, disk_gb: 1_000_000_000 },
        ratios: { vcpus: 1_000_000, memory_mb: 1_000_000, disk_gb: 1_000_000 },
        allocated: { vcpus: 0, memory_mb: 999_000_000_001, disk_gb: 0 },
      },
      {
        name: "over-committed",
        total: { vcpus: 4, memory_mb: 4096, disk_gb: 100 },
        allocated: { vcpus: 0, memory_mb: 5000, disk_gb: 0 },
      },
      { name: "same-free-a", total: { vcpus: 8, memory_mb: 16_384, disk_gb: 500 }, images: [IMAGE] },
      { name: "same-free-b", total: { vcpus: 8, memory_mb: 16_384, disk_gb: 500 }, images: ["other.qcow2"] },
      { name: "no-images", total: { vcpus: 8, memory_mb: 16_384, disk_gb: 500 }, images: [] },
      { name: "big", total: { vcpus: 64, memory_mb: 65_536, disk_gb: 2000 }, images: ["other.qcow2", IMAGE] },
    ];
    for (const host of table) {
      const id = await addHost(`rule-${host.name}`, location, host.total);
      if (host.images) {
        await repos.hosts.recordReport(id, host.total, "1.0.0", "sim", now(), host.images);
      }
      // Straight into the row: a report that lowers the total after the fact can leave any of these.
      const set: Record<string, number> = {};
      for (const r of RESOURCES) {
        if (host.reserved?.[r] !== undefined) set[`${r}_reserved`] = host.reserved[r];
        if (host.ratios?.[r] !== undefined) set[`${r}_ratio_milli`] = host.ratios[r];
        if (host.allocated) set[`${r}_allocated`] = host.allocated[r];
      }
      if (Object.keys(set).length > 0) {
        await suite.database.db.updateTable("hosts").set(set).where("id", "=", id).execute();
      }
    }
    const hosts = await suite.database.db
      .selectFrom("hosts")
      .selectAll()
      .where("location_id", "=", location)
      .execute();
    const requests: Amounts[] = [
      NOTHING,
      PLAN,
      { vcpus: 1, memory_mb: 1, disk_gb: 1 },
      { vcpus: 2, memory_mb: 2048, disk_gb: 40 },
      { vcpus: 1, memory_mb: 2048, disk_gb: 0 },
      { vcpus: 0, memory_mb: 2049, disk_gb: 0 },
      { vcpus: 100_000, memory_mb: 1_000_000_000, disk_gb: 0 },
    ];
    const names = (ids: number[]) => ids.map((id) => hosts.find((h) => h.id === id)?.name);
    let admitted = 0;
    for (const requested of requests) {
      for (const policy of ["spread", "pack"] as const) {
        for (const image of [undefined, IMAGE]) {
          const expected = weigh(
            hosts
              .filter((h) => image === undefined || hasImage(imagesOf(h), image))
              .map((h) => ({ id: h.id, inventory: inventoryOf(h) }))
              .filter((h) => fits(h.inventory, requested)),
            policy,
          ).map((h) => h.id);
          const actual = await repos.hostAllocations.candidates(
            location,
            requested,
            policy,
            since(),
            image,
            100,
          );
          const what = `${JSON.stringify(requested)} ${policy} ${image ?? "any image"}`;
          assert.deepEqual(names(actual), names(expected), what);
          const few = await repos.hostAllocations.candidates(location, requested, policy, since(), image, 2);
          assert.deepEqual(few, expected.slice(0, 2), `${what}, the first two`);
          admitted += expected.length;
        }
      }
    }
    assert.ok(admitted > 0, "some cases fit");
  });
});
