import type { Kysely } from "kysely";

// The web console: an account's password (scrypt, see domain/password-hash.ts; null until one is set), the
// single-use invitations that set it, and signed-in browsers' sessions. Invitation tokens and session ids are
// kept only as SHA-256 digests, so a copy of the database signs nobody in.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("accounts").addColumn("password_hash", "text").execute();
  await db.schema
    .createTable("account_invitations")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .execute();
  await db.schema
    .createIndex("account_invitations_account")
    .on("account_invitations")
    .column("account_id")
    .execute();
  await db.schema
    .createTable("web_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("account_id", "integer", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("user_agent", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("web_sessions_account").on("web_sessions").column("account_id").execute();
  await db.schema.createIndex("web_sessions_expires").on("web_sessions").column("expires_at").execute();
}
