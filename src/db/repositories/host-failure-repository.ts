import { sql } from "kysely";
import type { OperationKind, OperationStatus } from "../../domain/lifecycle.ts";
import type { Db } from "../database.ts";
import { dialectName } from "../dialect-name.ts";
import { OPERATIONS_CHANNEL } from "./operation-repository.ts";

/** An unfinished operation as it was read: what giving it up compares against. */
export interface StrandedOperation {
  id: number;
  server_id: number;
  kind: OperationKind;
  status: OperationStatus;
  attempts: number;
  lease_owner: string | null;
}

export interface StrandedQuery {
  /** The oldest heartbeat that still counts as up: a host heard from before (or never) is down. */
  since: string;
  /** Only operations queued before this. */
  queuedBefore: string;
  now: string;
  kinds: readonly OperationKind[];
  limit: number;
}

/** The queries of a host that goes quiet: operations stranded on it, and the guards of its reconciliation. */
export class HostFailureRepository {
  readonly #db: Db;
  readonly #postgres: boolean;
  constructor(db: Db) {
    this.#db = db;
    this.#postgres = dialectName(db) === "postgres";
  }

  /**
   * Unfinished operations of the given kinds, queued before `queuedBefore`, held by no live lease, whose host is
   * down (the host the operation names, else its server's). Oldest first.
   */
  async stranded(query: StrandedQuery): Promise<StrandedOperation[]> {
    if (query.kinds.length === 0) return [];
    return (
      this.#db
        .selectFrom("operations as o")
        .innerJoin("servers as s", "s.id", "o.server_id")
        // The host the operation runs on: the one it names (a migration's steps), else its server's.
        .innerJoin("hosts as h", (join) => join.on(sql<boolean>`h.id = coalesce(o.host_id, s.host_id)`))
        .select(["o.id", "o.server_id", "o.kind", "o.status", "o.attempts", "o.lease_owner"])
        .where(sql<boolean>`o.status in ('pending', 'running')`)
        .where("o.kind", "in", [...query.kinds])
        .where("o.created_at", "<", query.queuedBefore)
        .where((eb) => eb.or([eb("o.lease_owner", "is", null), eb("o.lease_expires_at", "<", query.now)]))
        .where((eb) =>
          eb.or([eb("h.last_heartbeat_at", "is", null), eb("h.last_heartbeat_at", "<", query.since)]),
        )
        .orderBy("o.id")
        .limit(query.limit)
        .execute()
    );
  }

  /**
   * Ends the operation `failed` with `error`, if it is still as it was read and no live lease holds it: a
   * compare-and-swap on its status, attempt and lease, so a claim made meanwhile (which counts an attempt), a
   * result of its holder, or another process giving it up first makes this change nothing.
   */
  async giveUp(
    op: StrandedOperation,
    now: string,
    error: { code: string; message: string },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable("operations")
      .set({
        status: "failed",
        lease_owner: null,
        lease_expires_at: null,
        finished_at: now,
        updated_at: now,
        error_code: error.code,
        error_message: error.message,
      })
      .where("id", "=", op.id)
      .where("status", "=", op.status)
      .where("attempts", "=", op.attempts)
      .where((eb) =>
        op.lease_owner === null
          ? eb("lease_owner", "is", null)
          : eb.and([eb("lease_owner", "=", op.lease_owner), eb("lease_expires_at", "<", now)]),
      )
      .executeTakeFirst();
    const changed = result.numUpdatedRows > 0n;
    // Requests waiting for this operation's end, in any process, look again.
    if (this.#postgres && changed) {
      await sql`select pg_notify(${OPERATIONS_CHANNEL}, ${String(op.server_id)})`.execute(this.#db);
    }
    return changed;
  }

  /** Which of these servers have an unfinished operation. */
  async busy(serverIds: readonly number[]): Promise<Set<number>> {
    if (serverIds.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom("operations")
      .select("server_id")
      .distinct()
      .where("server_id", "in", [...new Set(serverIds)])
      .where(sql<boolean>`status in ('pending', 'running')`)
      .execute();
    return new Set(rows.map((row) => row.server_id));
  }

  /**
   * Marks the server (deleted or not) changed at `now`, only if nothing changed it since `unchangedSince`: the
   * compare-and-swap that lets one reconciliation, of those acting on one observation, queue its operation.
   */
  async touchIfUnchanged(serverId: number, unchangedSince: string, now: string): Promise<boolean> {
    const result = await this.#db
      .updateTable("servers")
      .set({ updated_at: now })
      .where("id", "=", serverId)
      .where("updated_at", "=", unchangedSince)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
