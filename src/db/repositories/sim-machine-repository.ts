import type { Insertable, Updateable } from "kysely";
import type { Db } from "../database.ts";
import type { PreparedQueries } from "../prepared-queries.ts";
import type { SimMachineRow, SimMachinesTable } from "../schema.ts";

/** The simulated hypervisor keeps its machines in the database, so they outlive the process like real VMs. */
export class SimMachineRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
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

  async delete(id: string): Promise<void> {
    await this.#db.deleteFrom("sim_machines").where("id", "=", id).execute();
  }
}
