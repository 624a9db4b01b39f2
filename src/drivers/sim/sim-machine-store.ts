import { type Insertable, sql, type Updateable } from "kysely";
import type { Db } from "../../db/database.ts";
import { dialectName } from "../../db/dialect-name.ts";
import { PreparedQueries } from "../../db/prepared-queries.ts";
import type { SimMachineRow, SimMachinesTable } from "../../db/schema.ts";

/**
 * The simulated hypervisor keeps its machines in the database, so they outlive the process like real VMs.
 * The one SQL outside src/db: this table is the sim driver's hypervisor state, not the control plane's,
 * so it lives with the driver (which the control plane reaches only through the Driver interface) and is
 * built by the driver's factory instead of being one of the Repositories.
 */
export class SimMachineStore {
  readonly #db: Db;
  // Its own compiled queries: a store is built once per database, like the Repositories' PreparedQueries.
  readonly #prepared = new PreparedQueries();
  readonly #postgres: boolean;
  constructor(db: Db) {
    this.#db = db;
    this.#postgres = dialectName(db) === "postgres";
  }

  async find(id: string): Promise<SimMachineRow | undefined> {
    return this.#prepared.first(
      this.#db,
      "simMachines.find",
      (p) => this.#db.selectFrom("sim_machines").selectAll().where("id", "=", p<string>("id")),
      { id },
    );
  }

  async list(): Promise<SimMachineRow[]> {
    return this.#db.selectFrom("sim_machines").selectAll().orderBy("id").execute();
  }

  /** Inserts the machine unless one with the id exists; returns whether it was inserted. */
  async insertIfAbsent(machine: Insertable<SimMachinesTable>): Promise<boolean> {
    const result = await this.#db
      .insertInto("sim_machines")
      .values(machine)
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async update(id: string, changes: Updateable<SimMachinesTable>): Promise<void> {
    // One compiled statement per set of columns changed.
    const columns = Object.keys(changes).sort() as (keyof SimMachinesTable)[];
    await this.#prepared.run(
      this.#db,
      `simMachines.update:${columns.join(",")}`,
      (p) =>
        this.#db
          .updateTable("sim_machines")
          .set(Object.fromEntries(columns.map((column) => [column, p(column)])))
          .where("id", "=", p<string>("id")),
      { ...changes, id },
    );
  }

  /** Powers the machine on unless it runs (or is missing); returns whether it did. */
  async startIfStopped(id: string, startedAt: string): Promise<boolean> {
    const started = await this.#prepared.run(
      this.#db,
      "simMachines.startIfStopped",
      (p) =>
        this.#db
          .updateTable("sim_machines")
          .set({ power: "running", started_at: p<string>("startedAt"), boot_count: sql`boot_count + 1` })
          .where("id", "=", p<string>("id"))
          .where("power", "<>", "running"),
      { id, startedAt },
    );
    return started > 0;
  }

  /**
   * Powers the machine off if it runs, carrying its counters over as the driver computes them (`load`: its steady
   * load): each grown by the whole milliseconds it ran until `now` times its rate, rounded as `Math.round` does, in
   * the same floating-point steps. One statement: a stop needs no read first. Returns whether it powered off.
   */
  async stopIfRunning(id: string, now: string, load: number): Promise<boolean> {
    const stopped = await this.#prepared.run(
      this.#db,
      "simMachines.stopIfRunning",
      (p) => {
        // Whole milliseconds since its boot, never negative (a double: the driver's arithmetic is JavaScript's).
        const upMs = this.#postgres
          ? sql`greatest(0, coalesce(round(extract(epoch from (${p<string>("now")}::timestamptz - started_at::timestamptz)) * 1000), 0))::float8`
          : sql`max(0, coalesce(round((unixepoch(${p<string>("now")}, 'subsec') - unixepoch(started_at, 'subsec')) * 1000), 0))`;
        const rate = this.#postgres ? sql`${p<number>("load")}::float8` : sql`${p<number>("load")}`;
        const rounded = (x: ReturnType<typeof sql>) =>
          this.#postgres ? sql`floor(${x} + 0.5)::bigint` : sql`cast(${x} + 0.5 as integer)`;
        const netIn = rounded(sql`${upMs} * ${rate} * 1000`);
        const netOut = rounded(sql`${upMs} * ${rate} * 4000`);
        return this.#db
          .updateTable("sim_machines")
          .set({
            power: "stopped",
            started_at: null,
            cpu_ns_before: sql`cpu_ns_before + ${rounded(sql`${upMs} * 1000000.0 * vcpus * ${rate}`)}`,
            net_in_before: sql`net_in_before + ${netIn}`,
            net_out_before: sql`net_out_before + ${netOut}`,
            net_bytes_before: sql`net_in_before + net_out_before + ${netIn} + ${netOut}`,
          })
          .where("id", "=", p<string>("id"))
          .where("power", "=", "running");
      },
      { id, now, load },
    );
    return stopped > 0;
  }

  async delete(id: string): Promise<void> {
    await this.#db.deleteFrom("sim_machines").where("id", "=", id).execute();
  }
}
