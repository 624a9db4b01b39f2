import { type Expression, type SqlBool, sql } from "kysely";
import type { Amounts } from "../../domain/host-capacity.ts";
import type { PlacementPolicy } from "../../domain/host-placement.ts";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { HostAllocationRow } from "../schema.ts";
import { FREE_MEMORY_MILLI, fitsSql } from "./host-capacity-sql.ts";

/** Candidates a claim reads at once: enough that concurrent claims rarely take them all. */
const CANDIDATES_READ = 5;

/** What servers hold on hosts: placement's claims, their release, and the adoption of servers made before placement. */
export class HostAllocationRepository {
  readonly #db: Db;
  readonly #postgres: boolean;
  constructor(db: Db) {
    this.#db = db;
    this.#postgres = dialectName(db) === "postgres";
  }

  /**
   * Places the location's live servers that have no host (made before placement) on this host, each holding
   * its plan's sizes, whatever room is left: they run already. How many were adopted. In the caller's
   * transaction: the UPDATE takes each server once, whichever process adopts concurrently.
   */
  async adoptUnplaced(hostId: number, locationId: number, now: string): Promise<number> {
    const adopted = await this.#db
      .updateTable("servers")
      .set({ host_id: hostId })
      .where("host_id", "is", null)
      .where("location_id", "=", locationId)
      .where("deleted_at", "is", null)
      .returning("id")
      .execute();
    if (adopted.length === 0) return 0;
    const ids = adopted.map((row) => row.id);
    const sizes = await this.#db
      .selectFrom("servers")
      .innerJoin("plans", "plans.id", "servers.plan_id")
      .select(["servers.id", "plans.vcpus", "plans.memory_mb", "plans.storage_gb"])
      .where("servers.id", "in", ids)
      .execute();
    const total = { vcpus: 0, memory_mb: 0, disk_gb: 0 };
    for (const size of sizes) {
      total.vcpus += size.vcpus;
      total.memory_mb += size.memory_mb;
      total.disk_gb += size.storage_gb;
    }
    // In slices, under SQLite's limit of bound values per statement.
    for (let i = 0; i < sizes.length; i += 500) {
      await this.#db
        .insertInto("host_allocations")
        .values(
          sizes.slice(i, i + 500).map((size) => ({
            server_id: size.id,
            host_id: hostId,
            vcpus: size.vcpus,
            memory_mb: size.memory_mb,
            disk_gb: size.storage_gb,
            created_at: now,
          })),
        )
        .onConflict((oc) => oc.column("server_id").doNothing())
        .execute();
    }
    await this.#db
      .updateTable("hosts")
      .set((eb) => ({
        vcpus_allocated: eb("vcpus_allocated", "+", total.vcpus),
        memory_mb_allocated: eb("memory_mb_allocated", "+", total.memory_mb),
        disk_gb_allocated: eb("disk_gb_allocated", "+", total.disk_gb),
        server_count: eb("server_count", "+", sizes.length),
        updated_at: now,
      }))
      .where("id", "=", hostId)
      .execute();
    return sizes.length;
  }

  async findAllocation(serverId: number): Promise<HostAllocationRow | undefined> {
    return this.#db
      .selectFrom("host_allocations")
      .selectAll()
      .where("server_id", "=", serverId)
      .executeTakeFirst();
  }

  /**
   * Places the server on a host of the location that is enabled, up since `since`, has the image (when one is
   * given) and has room, in the policy's order, and records what it holds there. Each candidate is claimed by one conditional UPDATE that
   * re-checks the fit rule as it writes, so no concurrent claim can push a host over capacity; a candidate
   * lost to a concurrent claim passes to the next. Undefined when no host has room (or the location has no
   * host). A server that holds an allocation already keeps it. Runs in the caller's transaction, or its own.
   */
  async claim(
    serverId: number,
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    now: string,
    image?: string,
  ): Promise<HostAllocationRow | undefined> {
    if (!this.#db.isTransaction) {
      return this.#db
        .transaction()
        .execute((tx) =>
          new HostAllocationRepository(tx).claim(serverId, locationId, requested, policy, since, now, image),
        );
    }
    const held = await this.findAllocation(serverId);
    if (held) return held;
    return this.claimForNewServer(serverId, locationId, requested, policy, since, now, image);
  }

  /**
   * `claim` for a server inserted by the caller's transaction, which cannot hold an allocation yet: its create
   * does not look for one first (a round trip while the create holds its host's and counts' row locks).
   */
  async claimForNewServer(
    serverId: number,
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    now: string,
    image?: string,
    first?: readonly number[],
  ): Promise<HostAllocationRow | undefined> {
    const hostId = await this.#claimRoom(locationId, requested, policy, since, now, image, {}, first);
    if (hostId === undefined) return undefined;
    return this.#db
      .insertInto("host_allocations")
      .values({ server_id: serverId, host_id: hostId, ...requested, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * `claimForNewServer` for a server whose row the caller's transaction has written, which it also places: the
   * host's id, set as the server's `host_id`, or undefined when no host has room. On PostgreSQL each candidate
   * is one statement (`#placeOn`), a round trip while the create holds its counts row and then the host's.
   */
  async placeNewServer(
    serverId: number,
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    now: string,
    image: string | undefined,
    first: readonly number[],
  ): Promise<number | undefined> {
    if (!this.#postgres) {
      const placed = await this.claimForNewServer(
        serverId,
        locationId,
        requested,
        policy,
        since,
        now,
        image,
        first,
      );
      if (!placed) return undefined;
      await this.#db
        .updateTable("servers")
        .set({ host_id: placed.host_id })
        .where("id", "=", serverId)
        .execute();
      return placed.host_id;
    }
    return this.#claimRoom(locationId, requested, policy, since, now, image, {}, first, (hostId) =>
      this.#placeOn(hostId, serverId, requested, since, now),
    );
  }

  /**
   * The first candidates a claim would read (`candidates`), read ahead of it: a create reads them before it takes
   * any contended row and hands them to `claimForNewServer`, which re-checks each as it writes.
   */
  async firstCandidates(
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    image: string | undefined,
  ): Promise<number[]> {
    return this.candidates(locationId, requested, policy, since, image, CANDIDATES_READ);
  }

  /**
   * Room for a server that moves here from `sourceHostId` (a migration): placement's filter, weigh and claim
   * over the location's other hosts, or `onlyHostId` alone, adding to what the chosen host holds. The claim is
   * recorded by the migration, not as the server's allocation, which stays on its source until the move ends.
   * The chosen host's id; undefined when none has room. In the caller's transaction.
   */
  async claimForMigration(
    sourceHostId: number,
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    now: string,
    image: string,
    onlyHostId?: number,
  ): Promise<number | undefined> {
    return this.#claimRoom(locationId, requested, policy, since, now, image, {
      except: [sourceHostId],
      only: onlyHostId,
    });
  }

  /** Gives back room claimed by `claimForMigration` (a migration that did not happen). */
  async unclaim(hostId: number, amounts: Amounts, now: string): Promise<void> {
    await this.#db
      .updateTable("hosts")
      .set((eb) => ({
        vcpus_allocated: eb("vcpus_allocated", "-", amounts.vcpus),
        memory_mb_allocated: eb("memory_mb_allocated", "-", amounts.memory_mb),
        disk_gb_allocated: eb("disk_gb_allocated", "-", amounts.disk_gb),
        server_count: eb("server_count", "-", 1),
        updated_at: now,
      }))
      .where("id", "=", hostId)
      .execute();
  }

  /** Makes room claimed by `claimForMigration` the server's allocation on that host (the move succeeded). */
  async placeClaimed(serverId: number, hostId: number, amounts: Amounts, now: string): Promise<void> {
    await this.#db
      .insertInto("host_allocations")
      .values({ server_id: serverId, host_id: hostId, ...amounts, created_at: now })
      .execute();
  }

  /**
   * The hosts a claim may take, in the policy's order (ties to the lower id), at most `limit`: filtered and
   * ordered by SQL so that a claim reads a few ids, not every host of the location. The same filters and
   * order as the domain's `admitsPlacement`, `hasImage`, `fits` and `weigh`.
   */
  async candidates(
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    image: string | undefined,
    limit: number,
    hosts: { except?: readonly number[]; only?: number } = {},
  ): Promise<number[]> {
    let query = this.#db
      .selectFrom("hosts")
      .select("id")
      .where("location_id", "=", locationId)
      .where("state", "=", "enabled")
      .where("last_heartbeat_at", ">=", since)
      .where(fitsSql(requested));
    if (image !== undefined) query = query.where(this.#hasImageSql(image));
    if (hosts.only !== undefined) query = query.where("id", "=", hosts.only);
    if (hosts.except !== undefined && hosts.except.length > 0)
      query = query.where("id", "not in", hosts.except);
    const rows = await query
      .orderBy(FREE_MEMORY_MILLI, policy === "spread" ? "desc" : "asc")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }

  /** `hasImage` in SQL over the JSON array of the host's images (null: every image). */
  #hasImageSql(image: string): Expression<SqlBool> {
    return this.#postgres
      ? sql<SqlBool>`(images is null or cast(images as jsonb) @> jsonb_build_array(cast(${image} as text)))`
      : sql<SqlBool>`(images is null or exists (select 1 from json_each(hosts.images) where json_each.value = ${image}))`;
  }

  /**
   * Claims room on the first candidate, in the policy's order, that still fits as the UPDATE writes. Reads
   * candidates a few at a time; when all of them were lost to concurrent claims, reads the next few.
   */
  async #claimRoom(
    locationId: number,
    requested: Amounts,
    policy: PlacementPolicy,
    since: string,
    now: string,
    image: string | undefined,
    hosts: { except?: readonly number[]; only?: number } = {},
    first?: readonly number[],
    take: (hostId: number) => Promise<boolean> = (hostId) => this.#takeRoom(hostId, requested, since, now),
  ): Promise<number | undefined> {
    const tried = [...(hosts.except ?? [])];
    let ahead = first;
    for (;;) {
      const batch =
        ahead ??
        (await this.candidates(locationId, requested, policy, since, image, CANDIDATES_READ, {
          only: hosts.only,
          except: tried,
        }));
      ahead = undefined;
      for (const id of batch) {
        if (await take(id)) return id;
        tried.push(id);
      }
      if (batch.length < CANDIDATES_READ) return undefined;
    }
  }

  /** The claim of one candidate: a conditional UPDATE that re-checks the fit rule as it writes. */
  async #takeRoom(hostId: number, requested: Amounts, since: string, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("hosts")
      .set((eb) => ({
        vcpus_allocated: eb("vcpus_allocated", "+", requested.vcpus),
        memory_mb_allocated: eb("memory_mb_allocated", "+", requested.memory_mb),
        disk_gb_allocated: eb("disk_gb_allocated", "+", requested.disk_gb),
        server_count: eb("server_count", "+", 1),
        updated_at: now,
      }))
      .where("id", "=", hostId)
      .where("state", "=", "enabled")
      .where("last_heartbeat_at", ">=", since)
      .where(fitsSql(requested))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * `#takeRoom`, the allocation's row and the server's `host_id` in one PostgreSQL statement (data-modifying
   * CTEs): nothing is written when the host no longer fits.
   */
  async #placeOn(hostId: number, serverId: number, requested: Amounts, since: string, now: string) {
    const { rows } = await sql<{ host_id: number }>`
      with claimed as (
        update hosts set
          vcpus_allocated = vcpus_allocated + ${requested.vcpus},
          memory_mb_allocated = memory_mb_allocated + ${requested.memory_mb},
          disk_gb_allocated = disk_gb_allocated + ${requested.disk_gb},
          server_count = server_count + 1,
          updated_at = ${now}
        where id = ${hostId} and state = 'enabled' and last_heartbeat_at >= ${since} and ${fitsSql(requested)}
        returning id
      ), allocated as (
        insert into host_allocations (server_id, host_id, vcpus, memory_mb, disk_gb, created_at)
        select cast(${serverId} as integer), id, cast(${requested.vcpus} as integer),
          cast(${requested.memory_mb} as bigint), cast(${requested.disk_gb} as bigint), cast(${now} as text)
        from claimed
        returning host_id
      )
      update servers set host_id = allocated.host_id from allocated where servers.id = ${serverId}
      returning servers.host_id`.execute(this.#db);
    return rows.length > 0;
  }

  /**
   * Makes the server's allocation `to` on the host it is on (a resize): the host's totals change by the
   * difference, by one conditional UPDATE that re-checks the room for what grows as it writes, so no concurrent
   * claim can push the host over capacity. False (nothing changed) when the host lacks room or the server holds
   * no allocation. In the caller's transaction.
   */
  async resize(serverId: number, to: Amounts, now: string): Promise<boolean> {
    const held = await this.findAllocation(serverId);
    if (!held) return false;
    const delta = {
      vcpus: to.vcpus - held.vcpus,
      memory_mb: to.memory_mb - Number(held.memory_mb),
      disk_gb: to.disk_gb - Number(held.disk_gb),
    };
    const grows = {
      vcpus: Math.max(0, delta.vcpus),
      memory_mb: Math.max(0, delta.memory_mb),
      disk_gb: Math.max(0, delta.disk_gb),
    };
    const result = await this.#db
      .updateTable("hosts")
      .set((eb) => ({
        vcpus_allocated: eb("vcpus_allocated", "+", delta.vcpus),
        memory_mb_allocated: eb("memory_mb_allocated", "+", delta.memory_mb),
        disk_gb_allocated: eb("disk_gb_allocated", "+", delta.disk_gb),
        updated_at: now,
      }))
      .where("id", "=", held.host_id)
      .where(fitsSql(grows))
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await this.#db.updateTable("host_allocations").set(to).where("server_id", "=", serverId).execute();
    return true;
  }

  /** Locks the rows of the hosts these servers are allocated on, in id order (PostgreSQL; SQLite has one writer). */
  async lockHostsOf(serverIds: readonly number[]): Promise<void> {
    if (serverIds.length === 0 || dialectName(this.#db) !== "postgres") return;
    await this.#db
      .selectFrom("hosts")
      .select("id")
      .where("id", "in", (eb) =>
        eb.selectFrom("host_allocations").select("host_id").where("server_id", "in", serverIds),
      )
      .orderBy("id")
      .forNoKeyUpdate()
      .execute();
  }

  /**
   * Frees exactly what the server held, once: the allocation is deleted and its amounts taken off its host in
   * one transaction; a second release finds nothing and changes nothing. Returns what was freed.
   */
  async release(serverId: number, now: string): Promise<HostAllocationRow | undefined> {
    if (!this.#db.isTransaction) {
      return this.#db.transaction().execute((tx) => new HostAllocationRepository(tx).release(serverId, now));
    }
    const freed = await this.#db
      .deleteFrom("host_allocations")
      .where("server_id", "=", serverId)
      .returningAll()
      .executeTakeFirst();
    if (!freed) return undefined;
    await this.#db
      .updateTable("hosts")
      .set((eb) => ({
        vcpus_allocated: eb("vcpus_allocated", "-", freed.vcpus),
        memory_mb_allocated: eb("memory_mb_allocated", "-", freed.memory_mb),
        disk_gb_allocated: eb("disk_gb_allocated", "-", freed.disk_gb),
        server_count: eb("server_count", "-", 1),
        updated_at: now,
      }))
      .where("id", "=", freed.host_id)
      .execute();
    return freed;
  }
}
