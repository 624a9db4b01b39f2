import { type Kysely, sql } from "kysely";

// An email is one address whatever its letters' case: "Ana@Example.com" and "ana@example.com" must not be two
// accounts. A unique index on the lower-cased email holds that under any concurrency; the email itself is
// kept as given, for display.
//
// Accounts made before this index may already share an address in different cases. Accounts are reached by
// token, not by email, so nobody is locked out by a rename: the oldest keeps the address, and each later
// one gets a note appended, e.g. "ana@example.com (account 7, duplicate of 2)", which an operator finds in
// the admin list.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    update accounts
    set email = email || ' (account ' || id || ', duplicate of ' ||
      (select min(first.id) from accounts first where lower(first.email) = lower(accounts.email)) || ')'
    where id > (select min(first.id) from accounts first where lower(first.email) = lower(accounts.email))`.execute(
    db,
  );
  await sql`create unique index accounts_email_lower on accounts (lower(email))`.execute(db);
}
