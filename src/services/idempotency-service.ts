import { setTimeout as sleep } from "node:timers/promises";
import type { Repositories } from "../db/repositories/repositories.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { Conflict } from "../domain/errors.ts";

/** A first request's hold on its key; the services record what its work created under it. */
export interface IdempotencyClaim {
  accountId: number;
  key: string;
}

export type IdempotencyStart =
  | { kind: "new"; claim: IdempotencyClaim }
  | { kind: "replay"; status: number; body: string; headers: Record<string, string> }
  /** The first request's work committed but its response was lost with its process: answer from what it made. */
  | { kind: "rebuild"; serverId: number; actionId: number };

const DAY_MS = 24 * 3_600_000;
/** A first request that has neither finished nor committed its work after this long died with its process. */
const STALE_MS = 10_000;

/**
 * Idempotency-Key on POSTs: within a day, a retry with the same key and body gets the first response and
 * does nothing again; the same key with another body is a 409. Keys live in the database, scoped to the
 * account, so they hold across processes and restarts.
 */
export class IdempotencyService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  constructor(repos: Repositories, clock: Clock) {
    this.#repos = repos;
    this.#clock = clock;
  }

  async begin(accountId: number, key: string, requestHash: string): Promise<IdempotencyStart> {
    const { idempotency } = this.#repos;
    await idempotency.release(accountId, key, isoAt(this.#clock, -DAY_MS));
    const deadline = Date.now() + 3 * STALE_MS;
    for (;;) {
      if (Date.now() > deadline) {
        throw new Conflict(
          "idempotency_key_in_progress",
          "A request with this Idempotency-Key is still running.",
        );
      }
      const now = isoAt(this.#clock);
      if (await idempotency.claim(accountId, key, requestHash, now))
        return { kind: "new", claim: { accountId, key } };
      const row = await idempotency.find(accountId, key);
      if (!row) continue;
      if (row.request_hash !== requestHash) {
        throw new Conflict(
          "idempotency_key_reused",
          "This Idempotency-Key was used with a different request.",
        );
      }
      if (row.state === "done" && row.status_code !== null && row.response_body !== null) {
        return {
          kind: "replay",
          status: row.status_code,
          body: row.response_body,
          headers: JSON.parse(row.response_headers ?? "{}") as Record<string, string>,
        };
      }
      const age = this.#clock.now().getTime() - Date.parse(row.created_at);
      if (row.server_id !== null && row.action_id !== null) {
        // The work committed; its response is on its way, or was lost with its process.
        if (age > 2000) return { kind: "rebuild", serverId: row.server_id, actionId: row.action_id };
      } else if (age > STALE_MS && (await idempotency.restart(accountId, key, row.created_at, now))) {
        return { kind: "new", claim: { accountId, key } };
      }
      // The first request is still running: answer with its response once it has one.
      await sleep(50);
    }
  }

  /** Stores the first response; a server error releases the key so that a retry can do the work. */
  async complete(
    claim: IdempotencyClaim,
    status: number,
    body: string,
    headers: Record<string, string>,
  ): Promise<void> {
    if (status >= 500) {
      await this.#repos.idempotency.release(claim.accountId, claim.key);
      return;
    }
    await this.#repos.idempotency.complete(claim.accountId, claim.key, status, body, JSON.stringify(headers));
  }
}
