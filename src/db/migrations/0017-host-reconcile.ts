import type { Kysely } from "kysely";

// When a host's agent heartbeats after the host was down, it must reconcile before its reports are judged by the
// power sync's rules: the heartbeat's time is kept here until the report that reconciles clears it.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("hosts").addColumn("reconcile_requested_at", "text").execute();
}
