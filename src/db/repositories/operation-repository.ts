import { sql } from "kysely";
import type { OperationEnd, OperationKind, OperationStatus } from "../../domain/lifecycle.ts";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import type { Param, PreparedQueries } from "../prepared-queries.ts";
import type { OperationRow, ServerRow } from "../schema.ts";

const UNFINISHED: OperationStatus[] = ["pending", "running"];
/**
 * The same condition as SQL text: the partial indexes over unfinished operations are chosen only for a query
 * that states their condition literally (SQLite does not match a bound parameter against an index's WHERE).
 */
const unfinished = (column: string) => sql<boolean>`${sql.ref(column)} in ('pending', 'running')`;

/**
 * The operation runs on one of `count` hosts, bound as `host0`, `host1`…: the host it names (a migration's
 * steps), else its server's (one lookup by primary key).
 */
function onHosts(serverIdColumn: string, count: number, p: Param) {
  const hosts = sql.join(Array.from({ length: count }, (_, i) => p<number>(`host${i}`)));
  const hostColumn = sql.ref(serverIdColumn.replace(/server_id$/, "host_id"));
  return sql<boolean>`(${hostColumn} in (${hosts}) or (${hostColumn} is null and exists (select 1 from servers as s where s.id = ${sql.ref(serverIdColumn)} and s.host_id in (${hosts}))))`;
}

function hostParams(hostIds: readonly number[]): Record<string, number> {
  return Object.fromEntries(hostIds.map((id, i) => [`host${i}`, id]));
}

/** A server's address of one family, for a query that names the server `s`. */
const serverAddress = (family: 4 | 6) =>
  sql`(select a.address from ip_addresses as a where a.server_id = s.id and a.family = ${sql.lit(family)} limit 1)`;

/** A claimed operation's server, deleted or not, with what running the operation needs of it. */
export type ClaimedServer = Pick<
  ServerRow,
  "id" | "name" | "hostname" | "plan_id" | "os_id" | "ssh_public_key" | "deleted_at"
> & { ipv4: string | null; ipv6: string | null };

/** A failed operation as operators list them: with its server's name and its account's email. */
export type FailedOperation = OperationRow & { server_name: string; account_email: string };

/** The PostgreSQL channel on which new operations are announced. */
export const OPERATIONS_CHANNEL = "vps_operations";
/** The payload of a new operation's notification (an operation's end names its server; "" is a listener's own (re)connection). */
export const NEW_WORK_NOTICE = "work";

/**
 * Who holds an operation's lease: its owner and the attempt the claim counted. The attempt tells two leases of
 * one owner apart, so a holder whose lease ran out and was claimed again, even by itself, changes nothing.
 */
export interface LeaseHolder {
  owner: string;
  attempt: number;
}

/** An operation's end as `finishMany` writes it: fenced by its lease, announced with its server. */
export interface FinishedOperation extends LeaseHolder {
  id: number;
  serverId: number;
  status: OperationEnd;
  now: string;
  error?: { code: string; message: string };
}

export interface NewOperation {
  serverId: number;
  accountId: number;
  kind: OperationKind;
  maxAttempts: number;
  now: string;
  /** The host that runs it, when not its server's (a migration's steps). */
  hostId?: number;
  /** The image it makes (snapshot, backup) or restores (create, rebuild). */
  imageId?: number;
  /** A resize's new plan, or the one a migrate_out moves its server to a host with room for. */
  planId?: number;
  /** A rebuild's new OS. */
  osId?: number;
}

export class OperationRepository {
  readonly #db: Db;
  readonly #prepared: PreparedQueries;
  readonly #postgres: boolean;
  constructor(db: Db, prepared: PreparedQueries) {
    this.#db = db;
    this.#prepared = prepared;
    this.#postgres = dialectName(db) === "postgres";
  }

  async insert(op: NewOperation): Promise<number> {
    const row = await this.#db
      .insertInto("operations")
      .values({
        server_id: op.serverId,
        account_id: op.accountId,
        kind: op.kind,
        status: "pending",
        attempts: 0,
        max_attempts: op.maxAttempts,
        run_after: op.now,
        host_id: op.hostId ?? null,
        image_id: op.imageId ?? null,
        plan_id: op.planId ?? null,
        os_id: op.osId ?? null,
        created_at: op.now,
        updated_at: op.now,
      })
      .returning("id")
      // Delivered when the transaction commits, to every process that listens: their workers wake at once.
      // Sent by the INSERT itself, which saves the create and every power request a round trip.
      .$if(this.#postgres, (q) =>
        q.returning(sql<string>`pg_notify(${OPERATIONS_CHANNEL}, ${NEW_WORK_NOTICE})`.as("notified")),
      )
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * Leases up to `limit` runnable operations of servers on `hostIds` to `owner`, in one statement. Runnable:
   * unfinished, due, not leased (or its lease expired with its worker), and the oldest unfinished operation of
   * its server, so the operations of one server run one at a time and in order (a migration's `cleanup` of an
   * old copy holds up none). Oldest due first. An operation runs only on its host: its server's, where the VM's
   * disk is, unless it names another (a migration's steps).
   */
  async claim(
    owner: string,
    hostIds: readonly number[],
    now: string,
    leaseUntil: string,
    limit: number,
  ): Promise<OperationRow[]> {
    if (hostIds.length === 0) return [];
    const rows = await this.#prepared.all(
      this.#db,
      `operations.claim.${hostIds.length}`,
      (p) => this.#claimUpdate(hostIds.length, p),
      { owner, now, leaseUntil, limit, ...hostParams(hostIds) },
    );
    return rows.sort((a, b) => a.id - b.id);
  }

  /**
   * `claim`, with the claimed operations' servers (deleted or not) and their addresses. On PostgreSQL one
   * statement (the claim's `UPDATE … RETURNING` as a CTE joined to the servers), saving each claim a round trip;
   * on SQLite, where a statement costs no round trip, the claim and then one read of its servers.
   */
  async claimWithServers(
    owner: string,
    hostIds: readonly number[],
    now: string,
    leaseUntil: string,
    limit: number,
  ): Promise<{ operations: OperationRow[]; servers: ClaimedServer[] }> {
    if (!this.#postgres || hostIds.length === 0) {
      const operations = await this.claim(owner, hostIds, now, leaseUntil, limit);
      return { operations, servers: await this.claimedServers(operations.map((o) => o.server_id)) };
    }
    const rows = await this.#prepared.all(
      this.#db,
      `operations.claimWithServers.${hostIds.length}`,
      (p) =>
        this.#db
          .with("claimed", () => this.#claimUpdate(hostIds.length, p))
          .selectFrom("claimed")
          .leftJoin("servers as s", "s.id", "claimed.server_id")
          .selectAll("claimed")
          .select([
            "s.id as s_id",
            "s.name as s_name",
            "s.hostname as s_hostname",
            "s.plan_id as s_plan_id",
            "s.os_id as s_os_id",
            "s.ssh_public_key as s_ssh_public_key",
            "s.deleted_at as s_deleted_at",
            sql<string | null>`${serverAddress(4)}`.as("s_ipv4"),
            sql<string | null>`${serverAddress(6)}`.as("s_ipv6"),
          ]),
      { owner, now, leaseUntil, limit, ...hostParams(hostIds) },
    );
    const operations: OperationRow[] = [];
    const servers: ClaimedServer[] = [];
    for (const row of rows) {
      const {
        s_id,
        s_name,
        s_hostname,
        s_plan_id,
        s_os_id,
        s_ssh_public_key,
        s_deleted_at,
        s_ipv4,
        s_ipv6,
        ...op
      } = row;
      operations.push(op);
      if (s_id !== null && s_name !== null && s_plan_id !== null && s_os_id !== null) {
        servers.push({
          id: s_id,
          name: s_name,
          hostname: s_hostname,
          plan_id: s_plan_id,
          os_id: s_os_id,
          ssh_public_key: s_ssh_public_key,
          deleted_at: s_deleted_at,
          ipv4: s_ipv4,
          ipv6: s_ipv6,
        });
      }
    }
    return { operations: operations.sort((a, b) => a.id - b.id), servers };
  }

  /** The servers, deleted or not, each with its IPv4 and IPv6 address: what a claimed batch carries. */
  async claimedServers(ids: readonly number[]): Promise<ClaimedServer[]> {
    if (ids.length === 0) return [];
    return this.#db
      .selectFrom("servers as s")
      .select([
        "s.id",
        "s.name",
        "s.hostname",
        "s.plan_id",
        "s.os_id",
        "s.ssh_public_key",
        "s.deleted_at",
        sql<string | null>`${serverAddress(4)}`.as("ipv4"),
        sql<string | null>`${serverAddress(6)}`.as("ipv6"),
      ])
      .where("s.id", "in", [...new Set(ids)])
      .execute();
  }

  /**
   * Leases up to `limit` runnable operations (see `claim`) to `owner` and returns them: one `UPDATE … RETURNING`.
   */
  #claimUpdate(hostCount: number, p: Param) {
    return this.#db
      .updateTable("operations")
      .set({
        status: "running",
        lease_owner: p<string>("owner"),
        lease_expires_at: p<string>("leaseUntil"),
        attempts: sql`attempts + 1`,
        updated_at: p<string>("now"),
      })
      .where("id", "in", (eb) =>
        eb
          .selectFrom("operations as o")
          // Walks the partial index of unfinished operations in due order and stops after `limit`.
          .select("o.id")
          .where(unfinished("o.status"))
          .where("o.run_after", "<=", p<string>("now"))
          .where(sql<boolean>`(o.lease_owner is null or o.lease_expires_at < ${p<string>("now")})`)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom("operations as q")
                  .select(sql`1`.as("one"))
                  .whereRef("q.server_id", "=", "o.server_id")
                  .whereRef("q.id", "<", "o.id")
                  .where(unfinished("q.status"))
                  // A migration's clean-up of an old copy, on another host, holds up nothing.
                  .where(sql<boolean>`q.kind <> 'cleanup'`),
              ),
            ),
          )
          .where(onHosts("o.server_id", hostCount, p))
          .orderBy("o.run_after")
          .orderBy("o.id")
          .limit(p<number>("limit"))
          // Workers in other processes skip rows another is claiming instead of queueing behind them.
          .$if(this.#postgres, (q) => q.forUpdate().skipLocked()),
      )
      .where(sql<boolean>`(lease_owner is null or lease_expires_at < ${p<string>("now")})`)
      .returningAll();
  }

  /**
   * The hosts that may have an operation to claim now: of each unfinished, due, unleased operation its own host,
   * else its server's (as `claim` chooses), read over the partial index of unfinished operations. Undefined when
   * more than `limit` such operations are queued: then any host may have work.
   */
  async hostsWithDueWork(now: string, limit: number): Promise<Set<number> | undefined> {
    const rows = await this.#prepared.all(
      this.#db,
      "operations.hostsWithDueWork",
      (p) =>
        this.#db
          .selectFrom("operations as o")
          .leftJoin("servers as s", "s.id", "o.server_id")
          .select(["o.host_id", "s.host_id as server_host_id"])
          .where(unfinished("o.status"))
          .where("o.run_after", "<=", p<string>("now"))
          .where(sql<boolean>`(o.lease_owner is null or o.lease_expires_at < ${p<string>("now")})`)
          .limit(p<number>("limit")),
      { now, limit: limit + 1 },
    );
    if (rows.length > limit) return undefined;
    return new Set(rows.map((r) => r.host_id ?? r.server_host_id).filter((id) => id !== null));
  }

  /** Keeps a long step's lease alive; false means the lease was lost and the step must not commit. */
  async extendLease(id: number, lease: LeaseHolder, leaseUntil: string): Promise<boolean> {
    const changed = await this.#prepared.run(
      this.#db,
      "operations.extendLease",
      (p) =>
        this.#db
          .updateTable("operations")
          .set({ lease_expires_at: p<string>("leaseUntil") })
          .where("id", "=", p<number>("id"))
          .where("lease_owner", "=", p<string>("owner"))
          .where("attempts", "=", p<number>("attempt"))
          .where("status", "=", "running"),
      { id, owner: lease.owner, attempt: lease.attempt, leaseUntil },
    );
    return changed > 0;
  }

  /** How far a running operation's steps are, 0-100; fenced by the lease like every write of its holder. */
  async setProgress(id: number, lease: LeaseHolder, percent: number): Promise<boolean> {
    const result = await this.#db
      .updateTable("operations")
      .set({ progress: percent })
      .where("id", "=", id)
      .where("lease_owner", "=", lease.owner)
      .where("attempts", "=", lease.attempt)
      .where("status", "=", "running")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Ends the operation, fenced by the lease: a worker whose lease was taken over changes nothing. */
  async finish(
    id: number,
    lease: LeaseHolder,
    status: OperationEnd,
    now: string,
    error?: { code: string; message: string },
    serverId?: number,
  ): Promise<boolean> {
    const changed = await this.#prepared.run(
      this.#db,
      serverId === undefined ? "operations.finish" : "operations.finishNotifying",
      (p) =>
        this.#db
          .updateTable("operations")
          .set({
            status: p<OperationEnd>("status"),
            lease_owner: null,
            lease_expires_at: null,
            finished_at: p<string>("now"),
            updated_at: p<string>("now"),
            error_code: p<string | null>("errorCode"),
            error_message: p<string | null>("errorMessage"),
          })
          .where("id", "=", p<number>("id"))
          .where("lease_owner", "=", p<string>("owner"))
          .where("attempts", "=", p<number>("attempt"))
          .where("status", "=", "running")
          // An operation of the same server may be queued behind this one, and requests may wait for this one
          // to end, in any process: the payload names the server. Sent by the UPDATE itself when it finished
          // the operation, a round trip less per operation.
          .$if(this.#postgres && serverId !== undefined, (q) =>
            q.returning(
              sql<string>`pg_notify(${OPERATIONS_CHANNEL}, cast(server_id as text))`.as("notified"),
            ),
          ),
      {
        id,
        owner: lease.owner,
        attempt: lease.attempt,
        status,
        now,
        errorCode: error?.code ?? null,
        errorMessage: error?.message ?? null,
      },
    );
    return changed > 0;
  }

  /**
   * `finish` (notifying) of several operations, each fenced by its own lease, in one statement on PostgreSQL;
   * returns the ids of those it ended.
   */
  async finishMany(ends: readonly FinishedOperation[]): Promise<Set<number>> {
    if (ends.length === 0) return new Set();
    if (!this.#postgres || ends.length === 1) {
      const finished = new Set<number>();
      for (const end of ends) {
        if (await this.finish(end.id, end, end.status, end.now, end.error, end.serverId))
          finished.add(end.id);
      }
      return finished;
    }
    const sorted = [...ends].sort((a, b) => a.id - b.id);
    const { rows } = await sql<{ id: number }>`
      update operations set status = v.status, lease_owner = null, lease_expires_at = null,
        finished_at = v.now, updated_at = v.now, error_code = v.error_code, error_message = v.error_message
      from unnest(${sorted.map((e) => e.id)}::integer[], ${sorted.map((e) => e.owner)}::text[],
        ${sorted.map((e) => e.attempt)}::integer[], ${sorted.map((e) => e.status)}::text[],
        ${sorted.map((e) => e.error?.code ?? null)}::text[], ${sorted.map((e) => e.error?.message ?? null)}::text[],
        ${sorted.map((e) => e.now)}::text[]) as v(id, owner, attempt, status, error_code, error_message, now)
      where operations.id = v.id and operations.lease_owner = v.owner and operations.attempts = v.attempt
        and operations.status = 'running'
      returning operations.id, pg_notify(${OPERATIONS_CHANNEL}, cast(operations.server_id as text)) as notified`.execute(
      this.#db,
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Puts the operation back in the queue to run again at `runAfter`, keeping the error for operators; fenced by the lease. */
  async retryLater(
    id: number,
    lease: LeaseHolder,
    runAfter: string,
    now: string,
    error: { code: string; message: string },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable("operations")
      .set({
        status: "pending",
        lease_owner: null,
        lease_expires_at: null,
        run_after: runAfter,
        updated_at: now,
        error_code: error.code,
        error_message: error.message,
      })
      .where("id", "=", id)
      .where("lease_owner", "=", lease.owner)
      .where("attempts", "=", lease.attempt)
      .where("status", "=", "running")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Frees the leases of workers known to be gone, so their operations resume at once. */
  async releaseLeases(owners: string[], now: string): Promise<number> {
    if (owners.length === 0) return 0;
    const result = await this.#db
      .updateTable("operations")
      .set({ status: "pending", lease_owner: null, lease_expires_at: null, updated_at: now })
      .where("lease_owner", "in", owners)
      .where("status", "=", "running")
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Frees the leases whose owner starts with `prefix` but not with `keep`: a restarted agent's predecessors'. Both
   * are made of digits, letters and colons only (no LIKE wildcard).
   */
  async releaseLeasesByPrefix(prefix: string, keep: string, now: string): Promise<number> {
    const result = await this.#db
      .updateTable("operations")
      .set({ status: "pending", lease_owner: null, lease_expires_at: null, updated_at: now })
      .where("status", "=", "running")
      .where("lease_owner", "like", `${prefix}%`)
      .where("lease_owner", "not like", `${keep}%`)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await this.#db
      .selectFrom("operations")
      .select("lease_owner")
      .distinct()
      .where("status", "=", "running")
      .where("lease_owner", "is not", null)
      .execute();
    return rows.flatMap((r) => (r.lease_owner ? [r.lease_owner] : []));
  }

  /**
   * The next moment after `now` at which an operation of a server on `hostIds` becomes runnable without a
   * wake-up: a retry falling due or a lease running out. Operations due already but queued behind another are
   * woken when that one ends.
   */
  async nextDue(now: string, hostIds: readonly number[]): Promise<string | undefined> {
    if (hostIds.length === 0) return undefined;
    const hosts = hostParams(hostIds);
    // Two walks of an index each, stopping at the first row, rather than one pass over the whole queue.
    const retry = await this.#prepared.first(
      this.#db,
      `operations.nextRetry.${hostIds.length}`,
      (p) =>
        this.#db
          .selectFrom("operations")
          .select("run_after as due")
          .where(unfinished("status"))
          .where("status", "=", "pending")
          .where("run_after", ">", p<string>("now"))
          .where(onHosts("operations.server_id", hostIds.length, p))
          .orderBy("run_after")
          .limit(1),
      { now, ...hosts },
    );
    const expiry = await this.#prepared.first(
      this.#db,
      `operations.nextLeaseExpiry.${hostIds.length}`,
      (p) =>
        this.#db
          .selectFrom("operations")
          .select("lease_expires_at as due")
          .where(sql<boolean>`status = 'running'`)
          .where("lease_expires_at", ">", p<string>("now"))
          .where(onHosts("operations.server_id", hostIds.length, p))
          .orderBy("lease_expires_at")
          .limit(1),
      { now, ...hosts },
    );
    const dues = [retry?.due, expiry?.due].filter((due): due is string => typeof due === "string");
    return dues.sort()[0];
  }

  async findById(id: number): Promise<OperationRow | undefined> {
    return this.#db.selectFrom("operations").selectAll().where("id", "=", id).executeTakeFirst();
  }

  /** Gives back one lease, so its operation resumes at once; fenced by the lease. */
  async releaseLease(id: number, lease: LeaseHolder, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("operations")
      .set({ status: "pending", lease_owner: null, lease_expires_at: null, updated_at: now })
      .where("id", "=", id)
      .where("lease_owner", "=", lease.owner)
      .where("attempts", "=", lease.attempt)
      .where("status", "=", "running")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** An operation of the account, whatever became of its server, unless of a kind in `except`. */
  async findForAccount(
    accountId: number,
    id: number,
    except: readonly OperationKind[] = [],
  ): Promise<OperationRow | undefined> {
    return this.#db
      .selectFrom("operations")
      .selectAll()
      .where("id", "=", id)
      .where("account_id", "=", accountId)
      .$if(except.length > 0, (q) => q.where("kind", "not in", [...except]))
      .executeTakeFirst();
  }

  /** The server's operations, newest first, but those of a kind in `except`. */
  async listForServer(
    serverId: number,
    limit: number,
    offset: number,
    except: readonly OperationKind[] = [],
  ): Promise<OperationRow[]> {
    return this.#db
      .selectFrom("operations")
      .selectAll()
      .where("server_id", "=", serverId)
      .$if(except.length > 0, (q) => q.where("kind", "not in", [...except]))
      .orderBy("id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async countForServer(serverId: number, except: readonly OperationKind[] = []): Promise<number> {
    const row = await this.#db
      .selectFrom("operations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("server_id", "=", serverId)
      .$if(except.length > 0, (q) => q.where("kind", "not in", [...except]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async unfinishedFor(serverId: number): Promise<OperationRow[]> {
    return this.#db
      .selectFrom("operations")
      .selectAll()
      .where("server_id", "=", serverId)
      .where("status", "in", UNFINISHED)
      .orderBy("id")
      .execute();
  }

  /**
   * The unfinished operations by status, and when the oldest of them was queued: one walk of the partial index
   * of unfinished operations, as long as the queue and not as the history.
   */
  async queueSummary(): Promise<{ status: string; count: number; oldest: string | null }[]> {
    const rows = await this.#db
      .selectFrom("operations")
      .select((eb) => ["status", eb.fn.countAll<number>().as("count"), eb.fn.min("created_at").as("oldest")])
      .where(unfinished("status"))
      .groupBy("status")
      .execute();
    return rows.map((row) => ({ status: row.status, count: Number(row.count), oldest: row.oldest }));
  }

  /**
   * Failed operations of every account, the newest ended first, with their server's name and account's email:
   * read along the partial index of failed operations (migration 0022).
   */
  async listFailed(limit: number, offset: number): Promise<FailedOperation[]> {
    return this.#db
      .selectFrom("operations")
      .innerJoin("servers", "servers.id", "operations.server_id")
      .innerJoin("accounts", "accounts.id", "operations.account_id")
      .selectAll("operations")
      .select(["servers.name as server_name", "accounts.email as account_email"])
      .where(sql<boolean>`operations.status = 'failed'`)
      .orderBy("operations.finished_at", "desc")
      .orderBy("operations.id", "desc")
      .limit(limit)
      .offset(offset)
      .execute();
  }

  async countFailed(): Promise<number> {
    const row = await this.#db
      .selectFrom("operations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where(sql<boolean>`status = 'failed'`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
