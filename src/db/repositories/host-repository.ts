import { type SqlBool, sql } from "kysely";
import { type Amounts, type Inventory, RESOURCES } from "../../domain/host-capacity.ts";
import type { AdminState, HostState } from "../../domain/host-placement.ts";
import type { Db } from "../database.ts";
import type { HostRow } from "../schema.ts";
import { FREE_MEMORY_MILLI } from "./host-capacity-sql.ts";

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

export class HostRepository {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
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

  /** How many hosts are in each effective state (`down`: not heard from since `since`). */
  async countByState(since: string): Promise<{ state: HostState; count: number }[]> {
    const rows = await this.#db
      .selectFrom("hosts")
      .select((eb) => [
        eb
          .case()
          .when(eb.or([eb("last_heartbeat_at", "is", null), eb("last_heartbeat_at", "<", since)]))
          .then(sql.lit("down"))
          .else(eb.ref("state"))
          .end()
          .as("effective"),
        eb.fn.countAll<number>().as("count"),
      ])
      .groupBy("effective")
      .execute();
    return rows.map((row) => ({ state: row.effective as HostState, count: Number(row.count) }));
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

  /** Where the hosts' agents serve disks: the addresses of the provider's own machines. */
  async transferUrls(): Promise<string[]> {
    const rows = await this.#db
      .selectFrom("hosts")
      .select("transfer_url")
      .where("transfer_url", "is not", null)
      .execute();
    return rows.flatMap((r) => (r.transfer_url === null ? [] : [r.transfer_url]));
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
}
