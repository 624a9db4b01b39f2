import type { Insertable } from "kysely";
import type { Db } from "../database.ts";
import type { PreparedQueries } from "../prepared-queries.ts";
import type { LocationRow, OperatingSystemsTable, OsRow, PlanRow, PlansTable } from "../schema.ts";

export type PlanWithLocations = PlanRow & { locations: string[] };

/**
 * Plans, operating systems and locations. Their rows are only ever inserted, never changed or deleted: servers
 * refer to them for life, and `CatalogueMemory` keeps them in memory by id on that promise. A change that
 * edits catalogue rows must give the memory a way to forget them.
 */
/** One location's pool of one address family. */
export interface PoolUsage {
  location_id: number;
  family: number;
  total: number;
  used: number;
}

export class CatalogueRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
  }

  async listPlans(): Promise<PlanWithLocations[]> {
    const [plans, offers] = await Promise.all([
      this.#db.selectFrom("plans").selectAll().orderBy("id").execute(),
      this.#db
        .selectFrom("plan_locations")
        .innerJoin("locations", "locations.id", "plan_locations.location_id")
        .select(["plan_locations.plan_id", "locations.code"])
        .orderBy("locations.id")
        .execute(),
    ]);
    return plans.map((plan) => ({
      ...plan,
      locations: offers.filter((o) => o.plan_id === plan.id).map((o) => o.code),
    }));
  }

  async findPlan(id: number): Promise<PlanRow | undefined> {
    return this.#prepared.first(
      this.#db,
      "catalogue.findPlan",
      (p) => this.#db.selectFrom("plans").selectAll().where("id", "=", p<number>("id")),
      { id },
    );
  }

  async isPlanOffered(planId: number, locationId: number): Promise<boolean> {
    const row = await this.#db
      .selectFrom("plan_locations")
      .select("plan_id")
      .where("plan_id", "=", planId)
      .where("location_id", "=", locationId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async createPlan(plan: Insertable<PlansTable>, locationIds: number[]): Promise<PlanRow> {
    const row = await this.#db.insertInto("plans").values(plan).returningAll().executeTakeFirstOrThrow();
    if (locationIds.length > 0) {
      await this.#db
        .insertInto("plan_locations")
        .values(locationIds.map((location_id) => ({ plan_id: row.id, location_id })))
        .execute();
    }
    return row;
  }

  async listOs(): Promise<OsRow[]> {
    return this.#db.selectFrom("operating_systems").selectAll().orderBy("id").execute();
  }

  async findOs(id: number): Promise<OsRow | undefined> {
    return this.#prepared.first(
      this.#db,
      "catalogue.findOs",
      (p) => this.#db.selectFrom("operating_systems").selectAll().where("id", "=", p<number>("id")),
      { id },
    );
  }

  async createOs(os: Insertable<OperatingSystemsTable>): Promise<OsRow> {
    return this.#db.insertInto("operating_systems").values(os).returningAll().executeTakeFirstOrThrow();
  }

  async listLocations(): Promise<LocationRow[]> {
    return this.#db.selectFrom("locations").selectAll().orderBy("id").execute();
  }

  async findLocation(id: number): Promise<LocationRow | undefined> {
    return this.#prepared.first(
      this.#db,
      "catalogue.findLocation",
      (p) => this.#db.selectFrom("locations").selectAll().where("id", "=", p<number>("id")),
      { id },
    );
  }

  async findLocationByCode(code: string): Promise<LocationRow | undefined> {
    return this.#db.selectFrom("locations").selectAll().where("code", "=", code).executeTakeFirst();
  }

  async findLocationsByCodes(codes: string[]): Promise<LocationRow[]> {
    if (codes.length === 0) return [];
    return this.#db.selectFrom("locations").selectAll().where("code", "in", codes).execute();
  }

  async createLocation(code: string, name: string, country: string): Promise<LocationRow> {
    return this.#db
      .insertInto("locations")
      .values({ code, name, country })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Adds addresses to a location's pool; ones already present anywhere are skipped. Returns how many were added. */
  /** Which of `addresses` are already in a pool, and the code of that pool's location. */
  async pooledAmong(addresses: string[]): Promise<{ address: string; location: string }[]> {
    const found: { address: string; location: string }[] = [];
    for (let i = 0; i < addresses.length; i += 500) {
      found.push(
        ...(await this.#db
          .selectFrom("ip_addresses")
          .innerJoin("locations", "locations.id", "ip_addresses.location_id")
          .select(["ip_addresses.address", "locations.code as location"])
          .where("ip_addresses.address", "in", addresses.slice(i, i + 500))
          .execute()),
      );
    }
    return found;
  }

  /** Records the block a pool's addresses came from (they are added by addAddresses). */
  async addBlock(locationId: number, family: 4 | 6, cidr: string): Promise<void> {
    await this.#db
      .insertInto("address_blocks")
      .values({ location_id: locationId, family, cidr })
      .onConflict((oc) => oc.column("cidr").doNothing())
      .execute();
  }

  async addAddresses(locationId: number, family: 4 | 6, addresses: string[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < addresses.length; i += 500) {
      const chunk = addresses.slice(i, i + 500);
      const result = await this.#db
        .insertInto("ip_addresses")
        .values(chunk.map((address) => ({ location_id: locationId, family, address })))
        .onConflict((oc) => oc.column("address").doNothing())
        .executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0n);
    }
    return added;
  }

  /** Each location's pool by family: how many addresses it holds and how many of them servers hold. */
  async poolUsage(): Promise<PoolUsage[]> {
    const rows = await this.#db
      .selectFrom("ip_addresses")
      .select((eb) => [
        "location_id",
        "family",
        eb.fn.countAll<number>().as("total"),
        eb.fn.count<number>("server_id").as("used"),
      ])
      .groupBy(["location_id", "family"])
      .orderBy("location_id")
      .orderBy("family")
      .execute();
    return rows.map((r) => ({
      location_id: r.location_id,
      family: Number(r.family),
      total: Number(r.total),
      used: Number(r.used),
    }));
  }
}
