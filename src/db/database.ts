import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import type { DialectName } from "./dialect-name.ts";
import { migrations } from "./migrations/index.ts";
import { NodeSqliteDialect } from "./node-sqlite-dialect.ts";
import type { Database } from "./schema.ts";
import { StatementNamingPool } from "./statement-naming-pool.ts";

export type Db = Kysely<Database>;

/** A connection pool's counts: connections open, those of them idle, and queries waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface OpenDatabase {
  db: Db;
  dialect: DialectName;
  url: string;
  /** PostgreSQL's pool, now; SQLite has one connection and no pool. */
  poolStats?: () => PoolStats;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

// Counts and bigint columns arrive as text from PostgreSQL; every such value here (money in cents, counters,
// row counts) is far below 2^53, so numbers are exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/**
 * Opens the database named by DATABASE_URL and brings its schema up to date. `onConnectionLost` hears of pooled
 * PostgreSQL connections that broke while idle (a server restart, an operator's terminate): the next query
 * opens a new one, and without a listener the error would end the process.
 */
export async function openDatabase(
  url: string,
  poolSize = 10,
  onConnectionLost: (err: Error) => void = () => {},
): Promise<OpenDatabase> {
  if (isPostgresUrl(url)) {
    const pgPool = new pg.Pool({ connectionString: url, max: poolSize });
    pgPool.on("error", onConnectionLost);
    const pool = new StatementNamingPool(pgPool);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await migrate(db);
    pool.startNaming();
    const poolStats = () => ({
      total: pgPool.totalCount,
      idle: pgPool.idleCount,
      waiting: pgPool.waitingCount,
    });
    return { db, dialect: "postgres", url, poolStats, close: () => db.destroy() };
  }
  if (url !== ":memory:") mkdirSync(dirname(url), { recursive: true });
  const dialect = new NodeSqliteDialect(url);
  const db = new Kysely<Database>({ dialect });
  dialect.bind(db);
  await migrate(db);
  return { db, dialect: "sqlite", url, close: () => db.destroy() };
}

async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${String(error)}`);
  }
}
