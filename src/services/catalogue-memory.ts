import type { Repositories } from "../db/repositories/repositories.ts";
import type { LocationRow, OsRow, PlanRow } from "../db/schema.ts";

/** What refers to the catalogue: a server's plan, OS and location. */
export interface CatalogueRefs {
  plan_id: number;
  os_id: number;
  location_id: number;
}

/**
 * Plans, operating systems and locations by id, read from the database once per process. Catalogue rows are
 * never changed or deleted (see CatalogueRepository), so what is kept cannot go stale, in this process or
 * because of another; an id not seen yet is read on first use. Lists take the catalogue from here instead of
 * joining it to every row of a page.
 */
export class CatalogueMemory {
  readonly #repos: Repositories;
  readonly #plans = new Map<number, PlanRow>();
  readonly #systems = new Map<number, OsRow>();
  readonly #locations = new Map<number, LocationRow>();

  constructor(repos: Repositories) {
    this.#repos = repos;
  }

  /** Reads what the rows refer to and is not known yet; then `plan`, `os` and `location` answer for them. */
  async learn(rows: CatalogueRefs[]): Promise<void> {
    for (const row of rows) {
      if (!this.#plans.has(row.plan_id))
        await this.#keep(this.#plans, row.plan_id, this.#repos.catalogue.findPlan(row.plan_id));
      if (!this.#systems.has(row.os_id))
        await this.#keep(this.#systems, row.os_id, this.#repos.catalogue.findOs(row.os_id));
      if (!this.#locations.has(row.location_id))
        await this.#keep(
          this.#locations,
          row.location_id,
          this.#repos.catalogue.findLocation(row.location_id),
        );
    }
  }

  /** The location with the code, or undefined for a code no location has (asked of the database each time). */
  async locationByCode(code: string): Promise<LocationRow | undefined> {
    for (const location of this.#locations.values()) if (location.code === code) return location;
    const found = await this.#repos.catalogue.findLocationByCode(code);
    if (found) this.#locations.set(found.id, found);
    return found;
  }

  /** The plan, read on first use; undefined for an id no plan has (asked of the database each time). */
  async findPlan(id: number): Promise<PlanRow | undefined> {
    if (!this.#plans.has(id)) await this.#keep(this.#plans, id, this.#repos.catalogue.findPlan(id));
    return this.#plans.get(id);
  }

  /** The operating system, read on first use; undefined for an id none has. */
  async findOs(id: number): Promise<OsRow | undefined> {
    if (!this.#systems.has(id)) await this.#keep(this.#systems, id, this.#repos.catalogue.findOs(id));
    return this.#systems.get(id);
  }

  plan(id: number): PlanRow {
    return known(this.#plans, id, "plan");
  }

  os(id: number): OsRow {
    return known(this.#systems, id, "operating system");
  }

  location(id: number): LocationRow {
    return known(this.#locations, id, "location");
  }

  async #keep<T>(memory: Map<number, T>, id: number, row: Promise<T | undefined>): Promise<void> {
    const found = await row;
    if (found) memory.set(id, found);
  }
}

function known<T>(memory: Map<number, T>, id: number, what: string): T {
  const row = memory.get(id);
  // Servers refer to the catalogue by foreign key, so a missing row is a broken database, not bad input.
  if (!row) throw new Error(`${what} ${id} is missing from the catalogue`);
  return row;
}
