import { type Compilable, type CompiledQuery, createQueryId, type RootOperationNode } from "kysely";
import type { Db } from "./database.ts";
import { runIfIdle } from "./node-sqlite-dialect.ts";

/** Stands for a value bound at each execution; the builder sees it as a value of the column's type. */
class Slot {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/** Names a value of a prepared query: `p("accountId")` where the builder wants the account id. */
export type Param = <T>(name: string) => T;
const param: Param = <T>(name: string) => new Slot(name) as unknown as T;

interface Template {
  sql: string;
  query: RootOperationNode;
  /** For each parameter of the SQL: the name of the value bound to it, or undefined for a constant. */
  slots: (string | undefined)[];
  constants: unknown[];
}

/**
 * Hot queries compiled once and run with new values, instead of being built and compiled by Kysely on every
 * call (which a profile showed to cost more than running them). One instance per database: compiled SQL
 * depends on the dialect. Each query has a fixed name; a query whose shape varies (optional filters) puts the
 * shape in its name.
 */
export class PreparedQueries {
  readonly #templates = new Map<string, Template>();

  /** Runs the named query with `values` bound to its named parameters. */
  async all<R>(
    db: Db,
    name: string,
    build: (p: Param) => Compilable<R>,
    values: Record<string, unknown>,
  ): Promise<R[]> {
    const compiled = this.#compiled(name, build, values);
    const result = runIfIdle<R>(db, compiled) ?? (await db.executeQuery<R>(compiled));
    return result.rows;
  }

  async first<R>(
    db: Db,
    name: string,
    build: (p: Param) => Compilable<R>,
    values: Record<string, unknown>,
  ): Promise<R | undefined> {
    return (await this.all(db, name, build, values))[0];
  }

  /** Runs a statement that returns no rows; resolves with the number of rows it changed. */
  async run(
    db: Db,
    name: string,
    build: (p: Param) => Compilable<unknown>,
    values: Record<string, unknown>,
  ): Promise<number> {
    const compiled = this.#compiled(name, build, values);
    const result = runIfIdle(db, compiled) ?? (await db.executeQuery(compiled));
    return Number(result.numAffectedRows ?? 0n);
  }

  #compiled<R>(
    name: string,
    build: (p: Param) => Compilable<R>,
    values: Record<string, unknown>,
  ): CompiledQuery<R> {
    let template = this.#templates.get(name);
    if (!template) {
      template = this.#compile(build(param).compile());
      this.#templates.set(name, template);
    }
    const { slots, constants } = template;
    const parameters = new Array<unknown>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (slot === undefined) parameters[i] = constants[i];
      else if (slot in values) parameters[i] = values[slot];
      else throw new Error(`prepared query ${name}: no value for ${slot}`);
    }
    return { sql: template.sql, query: template.query, parameters, queryId: createQueryId() };
  }

  #compile(compiled: CompiledQuery): Template {
    const slots = compiled.parameters.map((value) => (value instanceof Slot ? value.name : undefined));
    const constants = compiled.parameters.map((value) => (value instanceof Slot ? undefined : value));
    return { sql: compiled.sql, query: compiled.query, slots, constants };
  }
}
