import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type TransactionSettings,
} from "kysely";

// Kysely dialect over Node's built-in `node:sqlite`: no native addon to compile at install time.

type SqlValue = null | number | bigint | string | NodeJS.ArrayBufferView;

interface Prepared {
  stmt: StatementSync;
  /** Whether the statement returns rows, known once when it is prepared. */
  reader: boolean;
  /** Makes a row object of its values when rows come back as arrays (see `rowMaker`). */
  toRow: RowMaker | undefined;
}

type RowMaker = (values: unknown[]) => Record<string, unknown>;

type ArrayRows = StatementSync & { setReturnArrays?(enabled: boolean): void };

/**
 * node:sqlite builds each row object natively, with a null prototype and properties V8 keeps in a dictionary:
 * reading them cost more than the query (presenting a page of 50 servers took 90 µs). Rows taken as arrays and
 * made into objects here, all of one statement in one key order, share a hidden class and read fast. The maker
 * is one object literal per statement, compiled when the statement is prepared: a loop storing by computed keys
 * took 5 µs a page of 50 servers, the literal 0.6 µs. Names are the statement's own column names, quoted.
 */
function rowMaker(columns: string[]): RowMaker {
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: values[${i}]`);
  return new Function("values", `return { ${fields.join(", ")} };`) as RowMaker;
}

/** Prepared statements are cached by SQL text; Kysely emits the same text for the same query shape. */
class StatementCache {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, Prepared>();
  readonly #limit: number;
  constructor(db: DatabaseSync, limit = 500) {
    this.#db = db;
    this.#limit = limit;
  }
  get(sql: string): Prepared {
    let prepared = this.#cache.get(sql);
    if (prepared) return prepared;
    const stmt: ArrayRows = this.#db.prepare(sql);
    const columns = stmt.columns().map((column) => column.name);
    const reader = columns.length > 0;
    const asArrays = reader && typeof stmt.setReturnArrays === "function";
    if (asArrays) stmt.setReturnArrays?.(true);
    prepared = { stmt, reader, toRow: asArrays ? rowMaker(columns) : undefined };
    if (this.#cache.size >= this.#limit) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(sql, prepared);
    return prepared;
  }
}

function toSqlValue(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value as SqlValue;
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #statements: StatementCache;
  constructor(statements: StatementCache) {
    this.#statements = statements;
  }
  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return this.run(compiled);
  }
  run<R>(compiled: CompiledQuery): QueryResult<R> {
    const { stmt, reader, toRow } = this.#statements.get(compiled.sql);
    const params = compiled.parameters.map(toSqlValue);
    if (reader) {
      const rows = stmt.all(...params);
      if (!toRow) return { rows: rows as R[] };
      return { rows: (rows as unknown as unknown[][]).map(toRow) as R[] };
    }
    const { changes, lastInsertRowid } = stmt.run(...params);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }
  // biome-ignore lint/correctness/useYield: streaming is not supported on this dialect
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streaming is not supported by the node:sqlite dialect");
  }
}

/** SQLite has one connection; callers queue for it so a transaction is never interleaved with other queries. */
class NodeSqliteDriver implements Driver {
  readonly #path: string;
  #db: DatabaseSync | undefined;
  #connection: NodeSqliteConnection | undefined;
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;
  /** Callers holding the connection or queued for it. */
  #holders = 0;

  constructor(path: string) {
    this.#path = path;
  }

  async init(): Promise<void> {
    this.#db = new DatabaseSync(this.#path);
    // WAL lets readers run beside the writer; busy_timeout waits for another process instead of failing.
    this.#db.exec("PRAGMA journal_mode = WAL");
    this.#db.exec("PRAGMA synchronous = NORMAL");
    this.#db.exec("PRAGMA foreign_keys = ON");
    this.#db.exec("PRAGMA busy_timeout = 5000");
    // Reads come from memory instead of a read() per page: the default 2 MB page cache holds a small part of
    // a database of 100,000 servers, and every miss was a system call.
    this.#db.exec("PRAGMA cache_size = -65536");
    this.#db.exec("PRAGMA mmap_size = 1073741824");
    this.#connection = new NodeSqliteConnection(new StatementCache(this.#db));
  }

  /**
   * Runs a statement at once when no caller holds the connection or waits for it, without Kysely's executor:
   * its connection, release and result hand-offs cost more than the statement itself (a detail's read took
   * 7.8 µs through it, 2.6 µs alone). node:sqlite runs it synchronously, so nothing can come between; undefined
   * when the connection is taken (a transaction is open), and the caller queues as before.
   */
  runIfIdle<R>(compiled: CompiledQuery): QueryResult<R> | undefined {
    if (this.#holders !== 0 || !this.#connection) return undefined;
    return this.#connection.run(compiled);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#holders++;
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.#release = release;
    if (!this.#connection) throw new Error("database is closed");
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    // IMMEDIATE takes the write lock up front, so a transaction never fails half-way on lock upgrade.
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }
  async releaseConnection(): Promise<void> {
    this.#holders--;
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
  async destroy(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    this.#connection = undefined;
  }
}

/** The driver of each open SQLite database, by its Kysely instance; a transaction's instance is never here. */
const drivers = new WeakMap<object, NodeSqliteDriver>();

/** Runs a statement on `db` at once if it is a SQLite database whose connection is free; else undefined. */
export function runIfIdle<R>(db: object, compiled: CompiledQuery): QueryResult<R> | undefined {
  return drivers.get(db)?.runIfIdle(compiled);
}

export class NodeSqliteDialect implements Dialect {
  readonly #path: string;
  #driver: NodeSqliteDriver | undefined;
  constructor(path: string) {
    this.#path = path;
  }
  /** Lets `runIfIdle` reach the driver of `db`, the Kysely instance made over this dialect. */
  bind(db: object): void {
    if (this.#driver) drivers.set(db, this.#driver);
  }
  createDriver(): Driver {
    this.#driver = new NodeSqliteDriver(this.#path);
    return this.#driver;
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createAdapter() {
    return new SqliteAdapter();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's introspector accepts any database type
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}
