import type { Kysely } from "kysely";

// Where a server's SSH server is reached: its own address and 22 on a bridged network, a forwarded loopback
// port with user-mode networking. Recorded by the engine when the machine starts.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("servers").addColumn("ssh_host", "text").execute();
  await db.schema.alterTable("servers").addColumn("ssh_port", "integer").execute();
}
