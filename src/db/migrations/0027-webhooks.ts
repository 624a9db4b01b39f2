import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// Webhooks. An account's endpoints (URL, the event types they take, the signing secret sealed, whether enabled and
// why not). Each event an endpoint takes is one delivery row, written in the transaction of the change it reports
// (an outbox): the dispatcher claims due deliveries with a lease like operations, and records each attempt. A
// server's status change is written by a trigger, whichever code (or operator) makes it; it costs one indexed
// lookup of the account's endpoints, and nothing is written for an account without them.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = dialectName(db) === "postgres";
  const id = (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey() : c.primaryKey().autoIncrement());
  await db.schema
    .createTable("webhook_endpoints")
    .addColumn("id", postgres ? "serial" : "integer", id)
    .addColumn("account_id", "integer", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("description", "text")
    // The event types it takes, each between commas (",action.finished,server.status_changed,"): a LIKE finds one.
    .addColumn("events", "text", (c) => c.notNull())
    .addColumn("secret_sealed", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("disabled_reason", "text")
    .addColumn("disabled_at", "text")
    // Deliveries that failed for good since the last success, and when its attempts began failing.
    .addColumn("failed_deliveries", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failing_since", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_endpoints_account")
    .on("webhook_endpoints")
    .columns(["account_id", "id"])
    .execute();
  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", postgres ? "serial" : "integer", id)
    .addColumn("endpoint_id", "integer", (c) => c.notNull())
    .addColumn("account_id", "integer", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("last_status_code", "integer")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_endpoint")
    .on("webhook_deliveries")
    .columns(["endpoint_id", "id"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_due")
    .on("webhook_deliveries")
    .columns(["next_attempt_at", "id"])
    .where(sql<boolean>`status = 'pending'`)
    .execute();
  await db.schema
    .createTable("webhook_attempts")
    .addColumn("id", postgres ? "serial" : "integer", id)
    .addColumn("delivery_id", "integer", (c) => c.notNull())
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("status_code", "integer")
    .addColumn("response_excerpt", "text")
    .addColumn("error", "text")
    .execute();
  await db.schema
    .createIndex("webhook_attempts_delivery")
    .on("webhook_attempts")
    .columns(["delivery_id", "id"])
    .execute();

  // A deleted server's `deleting` is never shown by the API: its delete's action.finished says it.
  if (postgres) {
    await sql`
      create function servers_webhook() returns trigger language plpgsql as $$
      begin
        insert into webhook_deliveries (endpoint_id, account_id, event_type, data, status, next_attempt_at, created_at)
        select e.id, e.account_id, 'server.status_changed',
          json_build_object('server', json_build_object('id', new.id, 'name', new.name),
            'old_status', old.status, 'new_status', new.status)::text,
          'pending', new.updated_at, new.updated_at
        from webhook_endpoints e
        where e.account_id = new.account_id and e.enabled = 1 and e.events like '%,server.status_changed,%';
        return null;
      end $$`.execute(db);
    await sql`
      create trigger servers_webhook after update of status on servers
      for each row when (old.status is distinct from new.status and new.status <> 'deleting')
      execute function servers_webhook()`.execute(db);
    return;
  }
  await sql`
    create trigger servers_webhook after update of status on servers
    when old.status is not new.status and new.status <> 'deleting'
    begin
      insert into webhook_deliveries (endpoint_id, account_id, event_type, data, status, next_attempt_at, created_at)
      select e.id, e.account_id, 'server.status_changed',
        json_object('server', json_object('id', new.id, 'name', new.name),
          'old_status', old.status, 'new_status', new.status),
        'pending', new.updated_at, new.updated_at
      from webhook_endpoints e
      where e.account_id = new.account_id and e.enabled = 1 and e.events like '%,server.status_changed,%';
    end`.execute(db);
}
