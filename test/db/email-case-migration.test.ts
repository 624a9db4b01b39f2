import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sql } from "kysely";
import { up } from "../../src/db/migrations/0010-accounts-email-case-insensitive.ts";
import { suiteDatabase } from "../support/test-database.ts";

describe("migration 0010: one account per email, whatever its case", () => {
  const suite = suiteDatabase();

  it("keeps the oldest of accounts whose emails differ only in case, marks the others, then holds the rule", async () => {
    const { db } = suite.database;
    // The database as it was before 0010: no index on the lower-cased email, duplicates possible.
    await sql`drop index accounts_email_lower`.execute(db);
    const insert = async (email: string) =>
      (
        await db
          .insertInto("accounts")
          .values({ email, balance_minor: 0, currency: "USD", created_at: "now", updated_at: "now" })
          .returning("id")
          .executeTakeFirstOrThrow()
      ).id;
    const first = await insert("Ana@Example.com");
    const second = await insert("ana@example.com");
    const third = await insert("ANA@EXAMPLE.COM");
    const other = await insert("bo@example.com");

    await up(db);

    const emails = new Map(
      (await db.selectFrom("accounts").select(["id", "email"]).execute()).map((a) => [a.id, a.email]),
    );
    assert.equal(emails.get(first), "Ana@Example.com");
    assert.equal(emails.get(second), `ana@example.com (account ${second}, duplicate of ${first})`);
    assert.equal(emails.get(third), `ANA@EXAMPLE.COM (account ${third}, duplicate of ${first})`);
    assert.equal(emails.get(other), "bo@example.com");
    await assert.rejects(insert("BO@example.com"), "the index refuses another case of an existing email");
  });
});
