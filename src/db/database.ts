import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, Migrator } from "kysely";
import { ConfigError } from "../config.ts";
import type { DialectName } from "./dialect-name.ts";
import { migrations } from "./migrations/index.ts";
import { NodeSqliteDialect } from "./node-sqlite-dialect.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

export interface OpenDatabase {
  db: Db;
  dialect: DialectName;
  close(): Promise<void>;
}

/** Opens the database named by DATABASE_URL and brings its schema up to date. */
export async function openDatabase(url: string): Promise<OpenDatabase> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError("PostgreSQL is not supported by this version yet; use a SQLite file path.");
  }
  if (url !== ":memory:") mkdirSync(dirname(url), { recursive: true });
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect(url) });
  await migrate(db);
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${String(error)}`);
  }
}
