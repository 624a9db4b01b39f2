import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import pg from "pg";
import { isPostgresUrl, openDatabase } from "../../src/db/database.ts";
import { migrations } from "../../src/db/migrations/index.ts";
import { NodeSqliteDialect } from "../../src/db/node-sqlite-dialect.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { IdempotencyService } from "../../src/services/idempotency-service.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

describe("migration 0011: idempotency keys stored before it", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-migration-"));
  let url = "";
  after(async () => {
    if (url) await dropDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  });

  it("are kept as digests with their responses sealed (refusals dropped), and still replay to the key's holder", async () => {
    url = await freshDatabaseUrl(dir);
    // The schema as it was before sealed responses, with a response stored in plaintext.
    // biome-ignore lint/suspicious/noExplicitAny: the schema as it was
    const old = new Kysely<any>({
      dialect: isPostgresUrl(url)
        ? new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) })
        : new NodeSqliteDialect(url),
    });
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0011"));
    const migrated = await new Migrator({
      db: old,
      provider: { getMigrations: async () => before },
    }).migrateToLatest();
    assert.equal(migrated.error, undefined);
    const body = JSON.stringify({ id: 2, email: "old@example.com", api_token: "vps_stored-before-0011" });
    const now = new Date().toISOString();
    const row = { account_id: 0, request_hash: "h", state: "done", status_code: 201, created_at: now };
    await old
      .insertInto("idempotency_keys")
      .values([
        { ...row, key: "old-key", response_body: body, response_headers: "{}" },
        { ...row, key: "expired-key", response_body: body, created_at: "2000-01-01T00:00:00.000Z" },
        { ...row, key: "refused-key", status_code: 400, response_body: '{"error":{}}' },
      ])
      .execute();
    await old.destroy();

    const database = await openDatabase(url);
    try {
      const stored = await database.db.selectFrom("idempotency_keys").selectAll().execute();
      assert.equal(stored.length, 1, "the expired key and the refusal are gone");
      assert.doesNotMatch(JSON.stringify(stored), /vps_stored-before-0011|old-key/);
      const service = new IdempotencyService(new Repositories(database.db), systemClock);
      const replay = await service.begin(0, "old-key", "h");
      assert.deepEqual(replay, { kind: "replay", status: 201, body, headers: {} });
    } finally {
      await database.close();
    }
  });
});
