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
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

describe("migration 0025: balances held before the ledger", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-migration-"));
  let url = "";
  after(async () => {
    if (url) await dropDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  });

  it("become one opening entry each, so every balance equals its ledger's sum and a second run changes nothing", async () => {
    url = await freshDatabaseUrl(dir);
    // biome-ignore lint/suspicious/noExplicitAny: the schema as it was
    const old = new Kysely<any>({
      dialect: isPostgresUrl(url)
        ? new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) })
        : new NodeSqliteDialect(url),
    });
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < "0025"));
    const migrated = await new Migrator({
      db: old,
      provider: { getMigrations: async () => before },
    }).migrateToLatest();
    assert.equal(migrated.error, undefined);
    const created = "2029-03-04T05:06:07.000Z";
    const balances = [12_345, 0, -250, 1];
    await old
      .insertInto("accounts")
      .values(
        balances.map((balance_minor, n) => ({
          email: `before-ledger-${n}@example.com`,
          balance_minor,
          currency: "USD",
          created_at: created,
          updated_at: created,
        })),
      )
      .execute();
    await old.destroy();

    for (const run of ["first start", "second start"]) {
      const database = await openDatabase(url);
      try {
        const repos = new Repositories(database.db);
        assert.deepEqual(await repos.ledger.mismatchedAccounts(100), [], run);
        const accounts = await database.db
          .selectFrom("accounts")
          .select(["id", "balance_minor"])
          .where("email", "like", "before-ledger-%")
          .orderBy("id")
          .execute();
        assert.deepEqual(
          accounts.map((a) => a.balance_minor),
          balances,
        );
        for (const account of accounts) {
          assert.equal(await repos.ledger.sum(account.id), account.balance_minor, run);
        }
        const openings = await database.db
          .selectFrom("ledger_entries")
          .select(["account_id", "amount_minor", "key", "created_at"])
          .where("kind", "=", "opening")
          .where(
            "account_id",
            "in",
            accounts.map((a) => a.id),
          )
          .orderBy("account_id")
          .execute();
        assert.deepEqual(
          openings.map((e) => [Number(e.amount_minor), e.key, e.created_at]),
          accounts
            .filter((a) => a.balance_minor !== 0)
            .map((a) => [a.balance_minor, `opening:${a.id}`, created]),
          "one opening entry per non-zero balance, dated when the account was made",
        );
      } finally {
        await database.close();
      }
    }
  });
});
