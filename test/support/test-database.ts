import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import pg from "pg";
import { isPostgresUrl, type OpenDatabase, openDatabase } from "../../src/db/database.ts";

/**
 * The database a test runs on. By default a SQLite file in the test's folder; with VPS_TEST_POSTGRES_URL set
 * (a PostgreSQL server URL whose user may create databases, as in CI), a fresh PostgreSQL database per test app,
 * so that the whole suite runs on both backends.
 */
export const POSTGRES_SERVER_URL = process.env.VPS_TEST_POSTGRES_URL;

export async function freshDatabaseUrl(dir: string): Promise<string> {
  if (!POSTGRES_SERVER_URL) return join(dir, "vps.db");
  const name = `vps_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by freshDatabaseUrl (a SQLite file goes with its folder). */
export async function dropDatabase(url: string): Promise<void> {
  if (!isPostgresUrl(url) || !POSTGRES_SERVER_URL) return;
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: POSTGRES_SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A connection of the test's own to look at what the service wrote, whichever the backend. */
export function inspectDatabase(url: string): Promise<OpenDatabase> {
  return openDatabase(url, 2);
}

/**
 * A fresh database of the suite's own, opened before its first test and closed and dropped after its last;
 * `database` may be read from `before` hooks registered after this call and from the tests.
 */
export function suiteDatabase(): { readonly database: OpenDatabase } {
  let dir: string | undefined;
  let url: string | undefined;
  let open: OpenDatabase | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-suite-"));
    url = await freshDatabaseUrl(dir);
    open = await openDatabase(url);
  });
  after(async () => {
    await open?.close();
    if (url) await dropDatabase(url);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get database() {
      if (!open) throw new Error("the suite's database is opened in its before hook");
      return open;
    },
  };
}
