import { type ExpressionBuilder, type Insertable, sql } from "kysely";
import { LIFECYCLE } from "../../domain/lifecycle.ts";
import type { ServerStatus, StoredServerStatus } from "../../domain/server-status.ts";
import { CoalescedReads } from "../coalesced-reads.ts";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { Param, PreparedQueries } from "../prepared-queries.ts";
import type { Database, ServerRow, ServersTable } from "../schema.ts";

/** A live server with what its representations show: plan, OS, location, addresses and last usage sample. */
export interface ServerDetails {
  id: number;
  account_id: number;
  name: string;
  hostname: string | null;
  status: ServerStatus;
  backups_enabled: number;
  created_at: string;
  updated_at: string;
  location: string;
  plan_id: number;
  plan_name: string;
  vcpus: number;
  memory_mb: number;
  storage_gb: number;
  bandwidth_gb: number;
  os_id: number;
  os_name: string;
  ipv4: string | null;
  ipv6: string | null;
  ssh_host: string | null;
  ssh_port: number | null;
  cpu_percent: number | null;
  memory_used: number | null;
  disk_used: number | null;
  bandwidth_bytes: number | null;
  usage_period: string | null;
}

/** What a server shows in a list: the summary form's columns only. */
export type ServerSummary = Pick<
  ServerDetails,
  | "id"
  | "name"
  | "hostname"
  | "status"
  | "created_at"
  | "updated_at"
  | "location"
  | "plan_id"
  | "plan_name"
  | "vcpus"
  | "memory_mb"
  | "storage_gb"
  | "os_id"
  | "os_name"
  | "ipv4"
>;

export interface ServerFilter {
  status?: StoredServerStatus;
  locationId?: number;
}

export type ServerChanges = Partial<
  Pick<ServersTable, "name" | "hostname" | "backups_enabled" | "backup_next_at">
>;

const address = (family: number) => (eb: ExpressionBuilder<Database, "servers">) =>
  eb
    .selectFrom("ip_addresses")
    .select("ip_addresses.address")
    .whereRef("ip_addresses.server_id", "=", "servers.id")
    .where("ip_addresses.family", "=", family)
    .limit(1);

/** The name suffix of a filtered query's shape: which filters it has. */
function shape(filter: ServerFilter): string {
  return `${filter.status === undefined ? "" : ":status"}${filter.locationId === undefined ? "" : ":location"}`;
}

/** A server as a page lists it: its own columns; the service adds its plan, OS and location. */
export interface ServerListRow {
  id: number;
  name: string;
  hostname: string | null;
  status: ServerStatus;
  created_at: string;
  updated_at: string;
  plan_id: number;
  os_id: number;
  location_id: number;
  ipv4: string | null;
}

/** The server's own columns that both its forms show. */
const OWN_COLUMNS = [
  "servers.id",
  "servers.name",
  "servers.hostname",
  "servers.status",
  "servers.created_at",
  "servers.updated_at",
] as const;

/** A server's row as its counts key it. */
export interface CountedServer {
  id: number;
  account_id: number;
  location_id: number;
}

/** The row of `reserveId`'s statement. */
type NextId = { id: number };

/** A server asked for by its account. */
interface AccountServer {
  accountId: number;
  id: number;
}
/** The most details one statement reads: each number of pairs up to it is a statement prepared per connection. */
const MAX_COALESCED = 16;
/** The largest id of a row: PostgreSQL's `serial` is a 32-bit integer. */
const MAX_ROW_ID = 2 ** 31 - 1;
const accountServerKey = (key: AccountServer) => `${key.accountId}:${key.id}`;
const detailsKey = (row: ServerDetails) => `${row.account_id}:${row.id}`;

export class ServerRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  /** PostgreSQL outside a transaction: concurrent details in one statement (SQLite has no round trip to save). */
  readonly #detailReads: CoalescedReads<AccountServer, ServerDetails> | undefined;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
    if (!db.isTransaction && dialectName(db) === "postgres") {
      this.#detailReads = new CoalescedReads(
        (keys) => this.#detailsOf(keys),
        accountServerKey,
        detailsKey,
        MAX_COALESCED,
      );
    }
  }

  #details() {
    return this.#db
      .selectFrom("servers")
      .innerJoin("plans", "plans.id", "servers.plan_id")
      .innerJoin("operating_systems", "operating_systems.id", "servers.os_id")
      .innerJoin("locations", "locations.id", "servers.location_id")
      .leftJoin("server_usage", "server_usage.server_id", "servers.id")
      .where("servers.deleted_at", "is", null)
      .select([
        ...OWN_COLUMNS,
        "locations.code as location",
        "plans.id as plan_id",
        "plans.name as plan_name",
        "plans.vcpus",
        "plans.memory_mb",
        "plans.storage_gb",
        "operating_systems.id as os_id",
        "operating_systems.name as os_name",
        "servers.account_id",
        "servers.backups_enabled",
        "servers.ssh_host",
        "servers.ssh_port",
        "plans.bandwidth_gb",
        (eb) => address(4)(eb).as("ipv4"),
        (eb) => address(6)(eb).as("ipv6"),
        "server_usage.cpu_percent",
        "server_usage.memory_used",
        "server_usage.disk_used",
        "server_usage.bandwidth_bytes",
        "server_usage.period as usage_period",
      ])
      .$castTo<ServerDetails>();
  }

  /**
   * The id the next server inserted with it will have, taken before the row is written: a create writes the rows
   * that name its server first and the server's own row, whose counts row every create of the account and
   * location locks, last. PostgreSQL: from the sequence (an id taken and not used is a gap, as a rolled-back
   * insert leaves). SQLite: the next AUTOINCREMENT id, which holds in the caller's transaction alone (its
   * `begin immediate` keeps every other writer out until it commits).
   */
  async reserveId(): Promise<number> {
    const next =
      dialectName(this.#db) === "postgres"
        ? sql<NextId>`select nextval(pg_get_serial_sequence('servers', 'id'))::integer as id`
        : sql<NextId>`select max(coalesce((select seq from sqlite_sequence where name = 'servers'), 0),
            coalesce((select max(id) from servers), 0)) + 1 as id`;
    const { rows } = await next.execute(this.#db);
    const row = rows[0];
    if (!row) throw new Error("no server id");
    return Number(row.id);
  }

  async insert(server: Insertable<ServersTable>): Promise<number> {
    const row = await this.#db.insertInto("servers").values(server).returning("id").executeTakeFirstOrThrow();
    return row.id;
  }

  /** The host the server was placed on. */
  /** A rebuilt server's OS: the one its new disk came from. */
  async setOs(id: number, osId: number): Promise<void> {
    await this.#db.updateTable("servers").set({ os_id: osId }).where("id", "=", id).execute();
  }

  async setHost(id: number, hostId: number): Promise<void> {
    await this.#db.updateTable("servers").set({ host_id: hostId }).where("id", "=", id).execute();
  }

  /** The server's plan, once a resize has made its machine that size. */
  async setPlan(id: number, planId: number, now: string): Promise<void> {
    await this.#db
      .updateTable("servers")
      .set({ plan_id: planId, updated_at: now })
      .where("id", "=", id)
      .execute();
  }

  // The reads below serve every GET of a server or a page of servers: compiled once, per filter shape.

  /** A live server of the account, or undefined: another account's server is indistinguishable from none. */
  async findDetails(accountId: number, id: number): Promise<ServerDetails | undefined> {
    if (this.#detailReads) return this.#detailReads.read({ accountId, id });
    return this.#detailOf(accountId, id);
  }

  #detailOf(accountId: number, id: number): Promise<ServerDetails | undefined> {
    return this.#prepared.first(
      this.#db,
      "servers.findDetails",
      (p) =>
        this.#details()
          .where("servers.account_id", "=", p<number>("accountId"))
          .where("servers.id", "=", p<number>("id")),
      { accountId, id },
    );
  }

  /** The live servers among the (account, server) pairs: each pair's account filters its own server. */
  async #detailsOf(asked: AccountServer[]): Promise<ServerDetails[]> {
    // An id no integer column holds names no server, and would fail the statement of every read batched with it.
    const keys = asked.filter((key) => key.id <= MAX_ROW_ID && key.accountId <= MAX_ROW_ID);
    if (keys.length === 0) return [];
    const [only] = keys;
    if (keys.length === 1 && only) {
      const row = await this.#detailOf(only.accountId, only.id);
      return row ? [row] : [];
    }
    // A statement per number of pairs: with the pairs as one array parameter, PostgreSQL planned the statement
    // anew on every execution (its generic plan's estimate for an array of unknown length looked costlier).
    const values: Record<string, number> = {};
    keys.forEach((key, k) => {
      values[`accountId${k}`] = key.accountId;
      values[`id${k}`] = key.id;
    });
    return this.#prepared.all(
      this.#db,
      `servers.findDetails:${keys.length}`,
      (p) =>
        this.#details().where(
          sql<boolean>`(servers.account_id, servers.id) in (${sql.join(
            keys.map((_, k) => sql`(${p<number>(`accountId${k}`)}, ${p<number>(`id${k}`)})`),
          )})`,
        ),
      values,
    );
  }

  /** A page of the account's servers and how many match the filter in all, in one statement. */
  async list(
    accountId: number,
    filter: ServerFilter,
    limit: number,
    offset: number,
  ): Promise<{ count: number; rows: ServerListRow[] }> {
    // A page holds up to 100 rows, and reading their values is most of its cost: only the servers' own
    // columns, without the catalogue joined to every row. The count rides on every row (computed once: the
    // subquery does not depend on the row), which spares PostgreSQL a round trip.
    const rows = await this.#prepared.all(
      this.#db,
      `servers.list${shape(filter)}`,
      (p) =>
        this.#filtered(p, filter)
          .select(() => this.#counted(p, filter).as("total"))
          .orderBy("servers.id")
          .limit(p<number>("limit"))
          .offset(p<number>("offset")),
      { accountId, ...filter, limit, offset },
    );
    // An empty page (past the last, or no server at all) carries no count.
    if (rows.length === 0) return { count: offset === 0 ? 0 : await this.count(accountId, filter), rows };
    return { count: Number(rows[0]?.total), rows };
  }

  /** Exact, from the counts the database's triggers keep: a sum of a few rows however many servers match. */
  async count(accountId: number, filter: ServerFilter): Promise<number> {
    const row = await this.#prepared.first(
      this.#db,
      `servers.count${shape(filter)}`,
      (p) => this.#counted(p, filter),
      { accountId, ...filter },
    );
    return Number(row?.n ?? 0);
  }

  #counted(p: Param, filter: ServerFilter) {
    let query = this.#db
      .selectFrom("server_counts")
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("n"), eb.lit(0)).as("n"))
      .where("server_counts.account_id", "=", p<number>("accountId"));
    if (filter.status !== undefined)
      query = query.where("server_counts.status", "=", p<StoredServerStatus>("status"));
    if (filter.locationId !== undefined)
      query = query.where("server_counts.location_id", "=", p<number>("locationId"));
    return query;
  }

  #filtered(p: Param, filter: ServerFilter) {
    let q = this.#db
      .selectFrom("servers")
      .select([
        ...OWN_COLUMNS,
        "servers.plan_id",
        "servers.os_id",
        "servers.location_id",
        (eb) => address(4)(eb).as("ipv4"),
      ])
      .$castTo<ServerListRow>()
      .where("servers.deleted_at", "is", null)
      .where("servers.account_id", "=", p<number>("accountId"));
    if (filter.status !== undefined) q = q.where("servers.status", "=", p<StoredServerStatus>("status"));
    if (filter.locationId !== undefined) q = q.where("servers.location_id", "=", p<number>("locationId"));
    return q;
  }

  /** Any row, deleted or not, for the engine. */
  async findById(id: number): Promise<ServerRow | undefined> {
    return this.#prepared.first(
      this.#db,
      "servers.findById",
      (p) => this.#db.selectFrom("servers").selectAll().where("id", "=", p<number>("id")),
      { id },
    );
  }

  /** Rows of several servers in one read, deleted or not, for the engine (in no particular order). */
  /** The ids of the live servers placed on the host. */
  async idsOnHost(hostId: number): Promise<number[]> {
    const rows = await this.#db
      .selectFrom("servers")
      .select("id")
      .where("host_id", "=", hostId)
      .where("deleted_at", "is", null)
      .orderBy("id")
      .execute();
    return rows.map((row) => row.id);
  }

  async findByIds(ids: readonly number[]): Promise<ServerRow[]> {
    if (ids.length === 0) return [];
    return this.#db
      .selectFrom("servers")
      .selectAll()
      .where("id", "in", [...new Set(ids)])
      .execute();
  }

  async update(accountId: number, id: number, changes: ServerChanges, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("servers")
      .set({ ...changes, updated_at: now })
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Compare-and-swap of the status: succeeds only when the live server is in `from`. The single statement
   * is what makes exactly one of many concurrent conflicting requests win.
   */
  async swapStatus(
    id: number,
    from: StoredServerStatus,
    to: StoredServerStatus,
    now: string,
    guard: { accountId?: number; unchangedSince?: string } = {},
  ): Promise<boolean> {
    const byAccount = guard.accountId !== undefined;
    const sinceObserved = guard.unchangedSince !== undefined;
    const changed = await this.#prepared.run(
      this.#db,
      `servers.swapStatus${byAccount ? ":account" : ""}${sinceObserved ? ":unchanged" : ""}`,
      (p) => {
        let query = this.#db
          .updateTable("servers")
          .set({ status: p<StoredServerStatus>("to"), updated_at: p<string>("now") })
          .where("id", "=", p<number>("id"))
          .where("status", "=", p<StoredServerStatus>("from"))
          .where("deleted_at", "is", null);
        if (byAccount) query = query.where("account_id", "=", p<number>("accountId"));
        // For observations made earlier: any change since (an operation that ran and ended) voids them.
        if (sinceObserved) query = query.where("updated_at", "=", p<string>("unchangedSince"));
        return query;
      },
      { id, from, to, now, ...guard },
    );
    return changed > 0;
  }

  /**
   * Locks the servers' rows in id order until the transaction ends (PostgreSQL; SQLite has one writer): the row
   * comes before its counts in every transaction that changes a status. Returns where each server is counted.
   */
  async lockInOrder(ids: readonly number[]): Promise<CountedServer[]> {
    if (ids.length === 0 || dialectName(this.#db) !== "postgres") return [];
    return this.#db
      .selectFrom("servers")
      .select(["id", "account_id", "location_id"])
      .where("id", "in", ids)
      .orderBy("id")
      .forNoKeyUpdate()
      .execute();
  }

  /**
   * Locks every count row of these servers' (account, location) pairs in key order (PostgreSQL), the order in
   * which a status swap's trigger takes its two: a transaction swapping several statuses after this cannot wait
   * in a cycle on another. The rows `moves` will write are among them, made (with n = 0) where not there yet, in
   * the same key order: a row the swaps' trigger inserted later, out of order, could wait on another transaction's
   * insert of it while that one waits on a row locked here.
   */
  async lockCountsOf(
    servers: readonly CountedServer[],
    moves: readonly { id: number; from: StoredServerStatus; to: StoredServerStatus }[] = [],
  ): Promise<void> {
    if (servers.length === 0 || dialectName(this.#db) !== "postgres") return;
    const pairs = sql.join(servers.map((r) => sql`(${r.account_id}, ${r.location_id})`));
    const byId = new Map(servers.map((s) => [s.id, s]));
    const keys = moves.flatMap(({ id, from, to }) => {
      const server = byId.get(id);
      return server ? [from, to].map((status) => ({ ...server, status })) : [];
    });
    // An upsert that changes nothing locks each row it meets, in the order of its SELECT.
    await sql`
      insert into server_counts (account_id, status, location_id, n)
      select account_id, status, location_id, 0 from (
        select account_id, status, location_id from server_counts where (account_id, location_id) in (${pairs})
        union select * from unnest(${keys.map((k) => k.account_id)}::integer[], ${keys.map((k) => k.status)}::text[],
          ${keys.map((k) => k.location_id)}::integer[])
      ) as k(account_id, status, location_id)
      order by account_id, status, location_id
      on conflict (account_id, status, location_id) do update set n = server_counts.n`.execute(this.#db);
  }

  /** `swapStatus` of several servers, in one statement on PostgreSQL (the caller holds their counts' locks). */
  async swapStatuses(
    swaps: readonly { id: number; from: StoredServerStatus; to: StoredServerStatus; now: string }[],
  ): Promise<void> {
    if (swaps.length === 0) return;
    if (swaps.length === 1 || dialectName(this.#db) !== "postgres") {
      for (const { id, from, to, now } of swaps) await this.swapStatus(id, from, to, now);
      return;
    }
    await sql`
      update servers set status = v.to_status, updated_at = v.now
      from unnest(${swaps.map((w) => w.id)}::integer[], ${swaps.map((w) => w.from)}::text[],
        ${swaps.map((w) => w.to)}::text[], ${swaps.map((w) => w.now)}::text[]) as v(id, from_status, to_status, now)
      where servers.id = v.id and servers.status = v.from_status and servers.deleted_at is null`.execute(
      this.#db,
    );
  }

  /** Takes the server out of the API at once; the engine destroys its machine afterwards. */
  async markDeleted(accountId: number, id: number, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("servers")
      .set({ status: LIFECYCLE.delete.transitional, deleted_at: now, updated_at: now })
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setSshEndpoint(id: number, endpoint: { host: string; port: number } | null): Promise<void> {
    await this.#prepared.run(
      this.#db,
      "servers.setSshEndpoint",
      (p) =>
        this.#db
          .updateTable("servers")
          .set({ ssh_host: p<string | null>("host"), ssh_port: p<number | null>("port") })
          .where("id", "=", p<number>("id")),
      { id, host: endpoint?.host ?? null, port: endpoint?.port ?? null },
    );
  }

  /** The machine's SSH server is reached at the server's own IPv4 address, port 22 (none without one): one statement. */
  async setSshEndpointToOwnAddress(id: number): Promise<void> {
    await this.#prepared.run(
      this.#db,
      "servers.setSshEndpointToOwnAddress",
      (p) =>
        this.#db
          .updateTable("servers")
          .set((eb) => {
            const ipv4 = eb
              .selectFrom("ip_addresses")
              .select("address")
              .where("server_id", "=", p<number>("id"))
              .where("family", "=", 4)
              .limit(1);
            return {
              ssh_host: ipv4,
              ssh_port: eb.case().when(ipv4, "is not", null).then(22).else(null).end(),
            };
          })
          .where("id", "=", p<number>("id")),
      { id },
    );
  }

  /** `setSshEndpointToOwnAddress` of several servers in one statement. */
  async setSshEndpointsToOwnAddress(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    if (ids.length === 1) return this.setSshEndpointToOwnAddress(ids[0] as number);
    await this.#db
      .updateTable("servers")
      .set((eb) => {
        const ipv4 = eb
          .selectFrom("ip_addresses")
          .select("address")
          .whereRef("ip_addresses.server_id", "=", "servers.id")
          .where("family", "=", 4)
          .limit(1);
        return { ssh_host: ipv4, ssh_port: eb.case().when(ipv4, "is not", null).then(22).else(null).end() };
      })
      .where("id", "in", [...ids])
      .execute();
  }

  /** Suspended servers of the account become `stopped` again, paid from now on. */
  async unsuspend(accountId: number, now: string): Promise<number> {
    const result = await this.#db
      .updateTable("servers")
      .set({ status: "stopped", billed_until: now, updated_at: now })
      .where("account_id", "=", accountId)
      .where("status", "=", "suspended")
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Live servers on the hosts, in one of the statuses, with no unfinished operation: the ones the power sync may correct. */
  async listSettled(
    statuses: ServerStatus[],
    limit: number,
    hostIds: readonly number[],
  ): Promise<ServerRow[]> {
    if (hostIds.length === 0) return [];
    return this.#db
      .selectFrom("servers")
      .selectAll()
      .where("host_id", "in", hostIds)
      .where("deleted_at", "is", null)
      .where("status", "in", statuses)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom("operations")
              .select(sql`1`.as("one"))
              .whereRef("operations.server_id", "=", "servers.id")
              .where("operations.status", "in", ["pending", "running"]),
          ),
        ),
      )
      .orderBy("id")
      .limit(limit)
      .execute();
  }
}
