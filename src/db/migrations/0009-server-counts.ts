import { type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// The exact `count` of a list read every matching index entry: 1.3 ms for an account of 10,000 servers, and
// growing with it. Live servers are now counted per (account, status, location) in a table that triggers keep
// in the same transaction as every change to a server, whichever code (or operator) makes it; a count is the
// sum of at most a few dozen rows.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("server_counts")
    .addColumn("account_id", "integer", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("location_id", "integer", (c) => c.notNull())
    .addColumn("n", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("server_counts_pk", ["account_id", "status", "location_id"])
    .execute();
  await sql`
    insert into server_counts (account_id, status, location_id, n)
    select account_id, status, location_id, count(*) from servers where deleted_at is null
    group by account_id, status, location_id`.execute(db);

  if (dialectName(db) === "postgres") {
    await sql`
      create function servers_count() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' and old.account_id = new.account_id and old.status = new.status
          and old.location_id = new.location_id and (old.deleted_at is null) = (new.deleted_at is null) then
          return null;
        end if;
        -- A move touches two counts; taking them in one order everywhere keeps two concurrent moves from
        -- waiting on each other's rows in a cycle.
        if tg_op = 'UPDATE' and old.deleted_at is null and new.deleted_at is null
          and (new.account_id, new.status, new.location_id) < (old.account_id, old.status, old.location_id) then
          insert into server_counts (account_id, status, location_id, n)
          values (new.account_id, new.status, new.location_id, 1)
          on conflict (account_id, status, location_id) do update set n = server_counts.n + 1;
          update server_counts set n = n - 1
          where account_id = old.account_id and status = old.status and location_id = old.location_id;
          return null;
        end if;
        if tg_op in ('UPDATE', 'DELETE') and old.deleted_at is null then
          update server_counts set n = n - 1
          where account_id = old.account_id and status = old.status and location_id = old.location_id;
        end if;
        if tg_op in ('INSERT', 'UPDATE') and new.deleted_at is null then
          insert into server_counts (account_id, status, location_id, n)
          values (new.account_id, new.status, new.location_id, 1)
          on conflict (account_id, status, location_id) do update set n = server_counts.n + 1;
        end if;
        return null;
      end $$`.execute(db);
    await sql`
      create trigger servers_count
      after insert or update of account_id, status, location_id, deleted_at or delete on servers
      for each row execute function servers_count()`.execute(db);
    return;
  }

  await sql`
    create trigger servers_count_insert after insert on servers when new.deleted_at is null
    begin
      insert into server_counts (account_id, status, location_id, n)
      values (new.account_id, new.status, new.location_id, 1)
      on conflict (account_id, status, location_id) do update set n = n + 1;
    end`.execute(db);
  await sql`
    create trigger servers_count_update after update of account_id, status, location_id, deleted_at on servers
    when old.account_id is not new.account_id or old.status is not new.status
      or old.location_id is not new.location_id or (old.deleted_at is null) is not (new.deleted_at is null)
    begin
      update server_counts set n = n - 1
      where old.deleted_at is null
        and account_id = old.account_id and status = old.status and location_id = old.location_id;
      insert into server_counts (account_id, status, location_id, n)
      select new.account_id, new.status, new.location_id, 1 where new.deleted_at is null
      on conflict (account_id, status, location_id) do update set n = n + 1;
    end`.execute(db);
  await sql`
    create trigger servers_count_delete after delete on servers when old.deleted_at is null
    begin
      update server_counts set n = n - 1
      where account_id = old.account_id and status = old.status and location_id = old.location_id;
    end`.execute(db);
}
