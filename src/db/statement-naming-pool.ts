import type { PostgresPool, PostgresPoolClient } from "kysely";
import type pg from "pg";

/** Statements that PostgreSQL can prepare; anything else (DDL, LISTEN, BEGIN) is sent as it is. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

/**
 * A pg pool whose clients send each distinct query text as a named prepared statement, so that PostgreSQL
 * parses and plans it once per connection instead of on every execution (the service runs the same few dozen
 * texts all day; parsing and planning the server detail's five-way join cost more than running it).
 * Naming starts only after the migrations, so no statement is prepared against a schema about to change, and
 * stops after `limit` distinct texts, which bounds what each connection keeps.
 */
export class StatementNamingPool implements PostgresPool {
  readonly #pool: pg.Pool;
  readonly #names = new Map<string, string>();
  readonly #clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  readonly #limit: number;
  #naming = false;

  constructor(pool: pg.Pool, limit = 2000) {
    this.#pool = pool;
    this.#limit = limit;
  }

  /** From now on, statements are prepared by name. */
  startNaming(): void {
    this.#naming = true;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect();
    let wrapped = this.#clients.get(client);
    if (!wrapped) {
      wrapped = {
        query: ((text: unknown, values?: readonly unknown[]) => {
          if (typeof text !== "string") return client.query(text as pg.Submittable);
          const name = this.#nameOf(text);
          return name
            ? client.query({ name, text, values: values as unknown[] })
            : client.query(text, values as unknown[]);
        }) as unknown as PostgresPoolClient["query"],
        release: (destroy?: boolean) => client.release(destroy),
      };
      this.#clients.set(client, wrapped);
    }
    return wrapped;
  }

  end(): Promise<void> {
    return this.#pool.end();
  }

  #nameOf(text: string): string | undefined {
    if (!this.#naming || !PREPARABLE.test(text)) return undefined;
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < this.#limit) {
      name = `s${this.#names.size + 1}`;
      this.#names.set(text, name);
    }
    return name;
  }
}
