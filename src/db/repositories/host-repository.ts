import { type Expression, type SqlBool, sql } from "kysely";
import { type Amounts, type Inventory, RESOURCES, type Resource } from "../../domain/host-capacity.ts";
import type { AdminState, PlacementPolicy } from "../../domain/host-placement.ts";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { HostAllocationRow, HostRow } from "../schema.ts";

/** A host as the admin API shows it: its row, its location's code, and whether a credential is live. */
export type HostView = HostRow & { location: string; has_credential: boolean };

export interface HostFilter {
  location?: string;
  /** An effective state: `down` means not heard from since `since`; the others also mean heard from. */
  state?: AdminState | "down";
  order?: "id" | "free_memory";
}

export function inventoryOf(host: HostRow): Inventory {
  const pick = (suffix: string) =>
    Object.fromEntries(RESOURCES.map((r) => [r, Number(host[`${r}_${suffix}` as keyof HostRow])])) as Amounts;
  return {
    total: pick("total"),
    reserved: pick("reserved"),
    ratioMilli: pick("ratio_milli"),
    allocated: pick("allocated"),
  };
}

/** The images the host reported; null: every image. */
export function imagesOf(host: Pick<HostRow, "images">): string[] | null {
  return host.images === null ? null : (JSON.parse(host.images) as string[]);
}

// The fit rule in SQL, evaluated against the row as it is when the UPDATE writes it: two concurrent claims on
// one host cannot both pass it. In bigint, since a total times a ratio in thousandths outgrows 32 bits.
function usableMilli(r: Resource, reserved: Expression<number> | number = sql.ref(`${r}_reserved`)) {
  return sql<number>`(cast(${sql.ref(`${r}_total`)} as bigint) - ${reserved}) * ${sql.ref(`${r}_ratio_milli`)}`;
}

function fitsSql(requested: Amounts): Expression<SqlBool> {
  const each = RESOURCES.map(
    (r) => sql`${usableMilli(r)} >= (cast(${sql.ref(`${r}_allocated`)} as bigint) + ${requested[r]}) * 1000`,
  );
  return sql<SqlBool>`${sql.join(each, sql` and `)}`;
}

const FREE_MEMORY_MILLI = sql<number>`${usableMilli("memory_mb")} - cast(memory_mb_allocated as bigint) * 1000`;

/** Candidates a claim reads at once: enough that concurrent claims rarely take them all. */
const CANDIDATES_READ = 5;

export class HostRepository {
  readonly #db: Db;
  readonly #postgres: boolean;
  constructor(db: Db) {
    this.#db = db;
    this.#postgres = dialectName(db) === "postgres";
  }

  /** An embedded host: enabled, with no join token (its process reaches the database itself); undefined when the name is taken. */
  async createEmbedded(name: string, locationId: number, now: string): Promise<HostRow | undefined> {
    return this.#db
      .insertInto("hosts")
      .values({ name, location_id: locationId, state: "enabled", created_at: now, updated_at: now })
      .onConflict((oc) => oc.column("name").doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  async findByName(name: string): Promise<HostRow | undefined> {
    return this.#db.selectFrom("hosts").selectAll().where("name", "=", name).executeTakeFirst();
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

  /** A new host, or undefined when the name is taken. */
  async create(
    name: string,
    locationId: number,
    joinTokenHash: string,
    joinTokenExpiresAt: string,
    now: string,
  ): Promise<HostRow | undefined> {
    return this.#db
      .insertInto("hosts")
      .values({
        name,
        location_id: locationId,
        state: "enabled",
        join_token_hash: joinTokenHash,
        join_token_expires_at: joinTokenExpiresAt,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column("name").doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  #view() {
    return this.#db
      .selectFrom("hosts")
      .innerJoin("locations", "locations.id", "hosts.location_id")
      .selectAll("hosts")
      .select((eb) => [
        "locations.code as location",
        eb
          .exists(
            eb
              .selectFrom("host_credentials")
              .select("host_credentials.id")
              .whereRef("host_credentials.host_id", "=", "hosts.id")
              .where("host_credentials.revoked_at", "is", null),
          )
          .as("has_credential"),
      ]);
  }

  async findById(id: number): Promise<HostView | undefined> {
    const row = await this.#view().where("hosts.id", "=", id).executeTakeFirst();
    return row && { ...row, has_credential: Boolean(row.has_credential) };
  }

  #filtered(filter: HostFilter, since: string) {
    return this.#view().where((eb) => {
      const conditions = [];
      if (filter.location !== undefined) conditions.push(eb("locations.code", "=", filter.location));
      if (filter.state === "down") {
        conditions.push(
          eb.or([eb("hosts.last_heartbeat_at", "is", null), eb("hosts.last_heartbeat_at", "<", since)]),
        );
      } else if (filter.state !== undefined) {
        conditions.push(eb("hosts.state", "=", filter.state), eb("hosts.last_heartbeat_at", ">=", since));
      }
      return eb.and(conditions);
    });
  }

  async list(filter: HostFilter, since: string, limit: number, offset: number): Promise<HostView[]> {
    let query = this.#filtered(filter, since);
    if (filter.order === "free_memory") query = query.orderBy(FREE_MEMORY_MILLI, "desc");
    const rows = await query.orderBy("hosts.id").limit(limit).offset(offset).execute();
    return rows.map((row) => ({ ...row, has_credential: Boolean(row.has_credential) }));
  }

  async count(filter: HostFilter, since: string): Promise<number> {
    const row = await this.#filtered(filter, since)
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Sets reserved amounts and ratios, unless the host would then hold less than is allocated on it (a host is
   * never over capacity); false when it would, or the host does not exist.
   */
  async updateInventory(
    id: number,
    reserved: Partial<Amounts>,
    ratiosMilli: Partial<Amounts>,
    now: string,
  ): Promise<boolean> {
    const set: Record<string, number | string> = { updated_at: now };
    const checks = [];
    for (const r of RESOURCES) {
      const newReserved = reserved[r];
      const newRatio = ratiosMilli[r];
      if (newReserved !== undefined) set[`${r}_reserved`] = newReserved;
      if (newRatio !== undefined) set[`${r}_ratio_milli`] = newRatio;
      if (newReserved === undefined && newRatio === undefined) continue;
      const reservedExpr = newReserved ?? sql.ref<number>(`${r}_reserved`);
      const ratioExpr = newRatio ?? sql.ref<number>(`${r}_ratio_milli`);
      checks.push(
        sql`(cast(${sql.ref(`${r}_total`)} as bigint) - ${reservedExpr}) * ${ratioExpr} >= cast(${sql.ref(`${r}_allocated`)} as bigint) * 1000`,
      );
    }
    let query = this.#db.updateTable("hosts").set(set).where("id", "=", id);
    if (checks.length > 0) query = query.where(sql<SqlBool>`${sql.join(checks, sql` and `)}`);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Compare-and-swap of the operator's state: changes it only if it is still `from`. */
  async setState(id: number, from: AdminState, to: AdminState, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("hosts")
      .set({ state: to, updated_at: now })
      .where("id", "=", id)
      .where("state", "=", from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes the host if nothing is placed on it; false when it does not exist or is not empty. */
  async deleteEmpty(id: number): Promise<boolean> {
    const result = await this.#db
      .deleteFrom("hosts")
      .where("id", "=", id)
      .where("server_count", "=", 0)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("host_allocations")
              .select("server_id")
              .whereRef("host_allocations.host_id", "=", "hosts.id"),
          ),
        ),
      )
      // Nor while a migration's clean-up of an old copy still has to run there.
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("operations")
              .select("operations.id")
              .whereRef("operations.host_id", "=", "hosts.id")
              .where("operations.status", "in", ["pending", "running"]),
          ),
        ),
      )
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** A new join token replaces the host's last one, spent or not. */
  async issueJoinToken(id: number, tokenHash: string, expiresAt: string, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("hosts")
      .set({
        join_token_hash: tokenHash,
        join_token_expires_at: expiresAt,
        join_token_used_at: null,
        updated_at: now,
      })
      .where("id", "=", id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async findByJoinTokenHash(tokenHash: string): Promise<HostRow | undefined> {
    return this.#db
      .selectFrom("hosts")
      .selectAll()
      .where("join_token_hash", "=", tokenHash)
      .executeTakeFirst();
  }

  /**
   * Spends the join token: one conditional UPDATE, so of two concurrent exchanges of one token only one
   * gets the host's id; undefined when it is unknown, spent or expired.
   */
  async spendJoinToken(tokenHash: string, now: string): Promise<number | undefined> {
    const row = await this.#db
      .updateTable("hosts")
      .set({ join_token_used_at: now, updated_at: now })
      .where("join_token_hash", "=", tokenHash)
      .where("join_token_used_at", "is", null)
      .where("join_token_expires_at", ">", now)
      .returning("id")
      .executeTakeFirst();
    return row?.id;
  }

  /**
   * Marks that the host must reconcile when its last heartbeat is older than `since` (it was down): called in the
   * heartbeat's transaction before the heartbeat is recorded. Whether it was down.
   */
  async requestReconcileIfDown(id: number, since: string, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("hosts")
      .set({ reconcile_requested_at: now })
      .where("id", "=", id)
      .where((eb) => eb.or([eb("last_heartbeat_at", "is", null), eb("last_heartbeat_at", "<", since)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Clears the mark a reconciliation answered, unless a later return set it again meanwhile. */
  async clearReconcile(id: number, requestedAt: string): Promise<void> {
    await this.#db
      .updateTable("hosts")
      .set({ reconcile_requested_at: null })
      .where("id", "=", id)
      .where("reconcile_requested_at", "=", requestedAt)
      .execute();
  }

  /** What the host reported about itself (images null: every image): a heartbeat. */
  async recordReport(
    id: number,
    capacity: Amounts,
    agentVersion: string,
    driver: string,
    now: string,
    images: string[] | null = null,
    transferUrl: string | null = null,
  ): Promise<void> {
    await this.#db
      .updateTable("hosts")
      .set({
        transfer_url: transferUrl,
        vcpus_total: capacity.vcpus,
        memory_mb_total: capacity.memory_mb,
        disk_gb_total: capacity.disk_gb,
        agent_version: agentVersion,
        driver,
        images: images === null ? null : JSON.stringify(images),
        last_heartbeat_at: now,
        updated_at: now,
      })
      .where("id", "=", id)
      .execute();
  }

  async insertCredential(hostId: number, tokenHash: string, now: string): Promise<void> {
    await this.#db
      .insertInto("host_credentials")
      .values({ host_id: hostId, token_hash: tokenHash, created_at: now })
      .execute();
  }

  /** Revokes every live credential of the host; how many there were. */
  async revokeCredentials(hostId: number, now: string): Promise<number> {
    const result = await this.#db
      .updateTable("host_credentials")
      .set({ revoked_at: now })
      .where("host_id", "=", hostId)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async findActiveCredential(tokenHash: string): Promise<{ hostId: number; tokenHash: string } | undefined> {
    const row = await this.#db
      .selectFrom("host_credentials")
      .select(["host_id", "token_hash"])
      .where("token_hash", "=", tokenHash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return row && { hostId: row.host_id, tokenHash: row.token_hash };
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
          new HostRepository(tx).claim(serverId, locationId, requested, policy, since, now, image),
        );
    }
    const held = await this.findAllocation(serverId);
    if (held) return held;
    const hostId = await this.#claimRoom(locationId, requested, policy, since, now, image);
    if (hostId === undefined) return undefined;
    return this.#db
      .insertInto("host_allocations")
      .values({ server_id: serverId, host_id: hostId, ...requested, created_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
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
  ): Promise<number | undefined> {
    const tried = [...(hosts.except ?? [])];
    for (;;) {
      const batch = await this.candidates(locationId, requested, policy, since, image, CANDIDATES_READ, {
        only: hosts.only,
        except: tried,
      });
      for (const id of batch) {
        const result = await this.#db
          .updateTable("hosts")
          .set((eb) => ({
            vcpus_allocated: eb("vcpus_allocated", "+", requested.vcpus),
            memory_mb_allocated: eb("memory_mb_allocated", "+", requested.memory_mb),
            disk_gb_allocated: eb("disk_gb_allocated", "+", requested.disk_gb),
            server_count: eb("server_count", "+", 1),
            updated_at: now,
          }))
          .where("id", "=", id)
          .where("state", "=", "enabled")
          .where("last_heartbeat_at", ">=", since)
          .where(fitsSql(requested))
          .executeTakeFirst();
        if (result.numUpdatedRows > 0n) return id;
        tried.push(id);
      }
      if (batch.length < CANDIDATES_READ) return undefined;
    }
  }

  /**
   * Frees exactly what the server held, once: the allocation is deleted and its amounts taken off its host in
   * one transaction; a second release finds nothing and changes nothing. Returns what was freed.
   */
  async release(serverId: number, now: string): Promise<HostAllocationRow | undefined> {
    if (!this.#db.isTransaction) {
      return this.#db.transaction().execute((tx) => new HostRepository(tx).release(serverId, now));
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
