import { type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// On PostgreSQL, a queued delivery notifies every process's webhook dispatcher when its transaction commits
// (the operations' channel, payload "webhooks": WEBHOOKS_NOTICE), whoever wrote it: the repository or the
// servers' status trigger. The dispatchers are woken by that alone there, not by every commit of the service.
// Per row: a statement that inserts none (an account without endpoints) notifies nobody; PostgreSQL sends one
// notice per transaction however many rows.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectName(db) !== "postgres") return;
  await sql`
    create function webhook_deliveries_notice() returns trigger language plpgsql as $$
    begin
      perform pg_notify('vps_operations', 'webhooks');
      return null;
    end $$`.execute(db);
  await sql`
    create trigger webhook_deliveries_notice after insert on webhook_deliveries
    for each row execute function webhook_deliveries_notice()`.execute(db);
}
