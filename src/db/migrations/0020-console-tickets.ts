import type { Kysely } from "kysely";

// A serial console is opened with a ticket: single-use, short-lived, bound to one server and account, kept only
// as its SHA-256 (the WebSocket that spends it carries no other credential). A console on an agent's host is
// reached with a grant alike, bound to the server and the host, spent by that host's agent before it opens the
// machine's console. A row is removed when spent; expired ones are swept as new ones are issued.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("console_tickets")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("server_id", "integer", (c) => c.notNull())
    .addColumn("account_id", "integer")
    .addColumn("host_id", "integer")
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("console_tickets_expiry").on("console_tickets").column("expires_at").execute();
}
