import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { PreparedQueries } from "../prepared-queries.ts";

export class AddressRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  readonly #postgres: boolean;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
    this.#postgres = dialectName(db) === "postgres";
  }

  /**
   * Gives the server one free address of the family from its location's pool, in one atomic statement.
   * Idempotent: a server that already holds one keeps it. Returns null when the pool is exhausted.
   */
  async allocate(serverId: number, locationId: number, family: 4 | 6, now: string): Promise<string | null> {
    const held = await this.#db
      .selectFrom("ip_addresses")
      .select("address")
      .where("server_id", "=", serverId)
      .where("family", "=", family)
      .executeTakeFirst();
    if (held) return held.address;
    return this.allocateForNewServer(serverId, locationId, family, now);
  }

  /** `allocate` for a server inserted by the caller's transaction, which holds no address yet to look for. */
  async allocateForNewServer(
    serverId: number,
    locationId: number,
    family: 4 | 6,
    now: string,
  ): Promise<string | null> {
    const row = await this.#db
      .updateTable("ip_addresses")
      .set({ server_id: serverId, assigned_at: now })
      .where("id", "=", (eb) =>
        eb
          .selectFrom("ip_addresses")
          .select("id")
          .where("location_id", "=", locationId)
          .where("family", "=", family)
          .where("server_id", "is", null)
          // In the order of the index of free addresses (server_id is null in every row read): ordered by id
          // alone, PostgreSQL walked the whole table in id order past other locations' and taken addresses.
          .orderBy("server_id")
          .orderBy("id")
          .limit(1)
          // Concurrent allocations in other processes take the next free row rather than wait for this one.
          .$if(this.#postgres, (q) => q.forUpdate().skipLocked()),
      )
      .where("server_id", "is", null)
      .returning("address")
      .executeTakeFirst();
    return row?.address ?? null;
  }

  async heldBy(serverId: number): Promise<{ family: number; address: string }[]> {
    return this.#prepared.all(
      this.#db,
      "addresses.heldBy",
      (p) =>
        this.#db
          .selectFrom("ip_addresses")
          .select(["family", "address"])
          .where("server_id", "=", p<number>("serverId"))
          .orderBy("family"),
      { serverId },
    );
  }

  /** The CIDR blocks of every location's pools: the provider's own ranges. */
  async blocks(): Promise<string[]> {
    const rows = await this.#db.selectFrom("address_blocks").select("cidr").orderBy("id").execute();
    return rows.map((r) => r.cidr);
  }

  async release(serverId: number): Promise<void> {
    await this.#db
      .updateTable("ip_addresses")
      .set({ server_id: null, assigned_at: null })
      .where("server_id", "=", serverId)
      .execute();
  }
}
