import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { Insertable } from "kysely";
import type { Db } from "../../src/db/database.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import type { ServerFilter } from "../../src/db/repositories/server-repository.ts";
import type { ServersTable } from "../../src/db/schema.ts";
import type { StoredServerStatus } from "../../src/domain/server-status.ts";
import { suiteDatabase } from "../support/test-database.ts";

const STATUSES: StoredServerStatus[] = [
  "provisioning",
  "active",
  "stopped",
  "stopping",
  "deleting",
  "error",
  "suspended",
];
const LOCATIONS = [1, 2, 3];

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function newServer(
  accountId: number,
  status: StoredServerStatus,
  locationId: number,
): Insertable<ServersTable> {
  return {
    account_id: accountId,
    name: "counted",
    hostname: null,
    status,
    plan_id: 1,
    os_id: 1,
    location_id: locationId,
    ssh_key_id: null,
    ssh_public_key: null,
    backups_enabled: 0,
    created_at: "now",
    updated_at: "now",
    deleted_at: null,
    billed_until: null,
    ssh_host: null,
    ssh_port: null,
  };
}

describe("exact server counts kept by the database", () => {
  const suite = suiteDatabase();
  let db: Db;
  let repos: Repositories;
  const accounts: number[] = [];
  before(async () => {
    db = suite.database.db;
    repos = new Repositories(db);
    for (const email of ["a@example.com", "b@example.com"]) {
      const row = await db
        .insertInto("accounts")
        .values({ email, balance_minor: 0, currency: "USD", created_at: "now", updated_at: "now" })
        .returning("id")
        .executeTakeFirstOrThrow();
      accounts.push(row.id);
    }
  });

  /** The count the list shows against counting the live rows themselves, for every filter. */
  async function assertCountsExact(step: string): Promise<void> {
    for (const accountId of accounts) {
      const filters: ServerFilter[] = [{}];
      for (const status of STATUSES) filters.push({ status });
      for (const locationId of LOCATIONS) {
        filters.push({ locationId });
        for (const status of STATUSES) filters.push({ status, locationId });
      }
      for (const filter of filters) {
        let query = db
          .selectFrom("servers")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("account_id", "=", accountId)
          .where("deleted_at", "is", null);
        if (filter.status) query = query.where("status", "=", filter.status);
        if (filter.locationId) query = query.where("location_id", "=", filter.locationId);
        const actual = Number((await query.executeTakeFirstOrThrow()).n);
        assert.equal(
          await repos.servers.count(accountId, filter),
          actual,
          `${step}: account ${accountId}, ${JSON.stringify(filter)}`,
        );
      }
    }
  }

  it("match the live servers through inserts, status changes, deletes and removals", async () => {
    const next = random(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] as T;
    const ids: number[] = [];
    await assertCountsExact("empty");
    for (let step = 0; step < 300; step++) {
      const roll = next();
      if (roll < 0.35 || ids.length === 0) {
        ids.push(await repos.servers.insert(newServer(pick(accounts), pick(STATUSES), pick(LOCATIONS))));
      } else if (roll < 0.75) {
        // A status change through the engine's compare-and-swap, or one that matches nothing.
        const id = pick(ids);
        const server = await repos.servers.findById(id);
        await repos.servers.swapStatus(id, server?.status ?? "deleting", pick(STATUSES), `t${step}`);
      } else if (roll < 0.85) {
        await db
          .updateTable("servers")
          .set({ name: `renamed-${step}`, status: pick(STATUSES) })
          .where("id", "=", pick(ids))
          .execute();
      } else if (roll < 0.95) {
        const server = await repos.servers.findById(pick(ids));
        if (server) await repos.servers.markDeleted(server.account_id, server.id, `t${step}`);
      } else {
        const id = pick(ids);
        await db.deleteFrom("servers").where("id", "=", id).execute();
        ids.splice(ids.indexOf(id), 1);
      }
      if (step % 25 === 0) await assertCountsExact(`step ${step}`);
    }
    // Many rows in one statement, as the billing cycle's suspension and release do.
    await db.updateTable("servers").set({ status: "suspended" }).where("status", "=", "stopped").execute();
    await assertCountsExact("after a bulk update");
  });

  it("roll back with the transaction that made them", async () => {
    const before = await repos.servers.count(accounts[0] as number, {});
    await assert.rejects(
      repos.transaction(async (tx) => {
        await tx.servers.insert(newServer(accounts[0] as number, "provisioning", 1));
        throw new Error("abandon");
      }),
      /abandon/,
    );
    assert.equal(await repos.servers.count(accounts[0] as number, {}), before);
  });
});
