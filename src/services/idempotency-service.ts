import { setTimeout as sleep } from "node:timers/promises";
import type { Repositories } from "../db/repositories/repositories.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { Conflict } from "../domain/errors.ts";
import {
  idempotencyKeyDigest,
  openResponse,
  responseSealKey,
  sealResponse,
} from "../domain/sealed-response.ts";

/** A first request's hold on its key; the services record what its work created under it. */
export interface IdempotencyClaim {
  accountId: number;
  /** The key's digest: the database never holds the key itself. */
  key: string;
  /** Seals the response for storage; derived from the key, so the database cannot open what it stores. */
  sealKey: Buffer;
}

export type IdempotencyStart =
  | { kind: "new"; claim: IdempotencyClaim }
  | { kind: "replay"; status: number; body: string; headers: Record<string, string> }
  /** The first request's work committed but its response was lost with its process: answer from what it made. */
  | { kind: "rebuild"; serverId: number; actionId: number };

const DAY_MS = 24 * 3_600_000;
/** A first request that has neither finished nor committed its work after this long died with its process. */
const STALE_MS = 10_000;
/** How often a process deletes every expired key, beside the one a request meets. */
const PURGE_MS = 3_600_000;

/**
 * Idempotency-Key on POSTs: within a day, a retry with the same key and body gets the first response and
 * does nothing again; the same key with another body is a 409. Only work done is kept: a refusal (4xx) or a
 * failure (5xx) releases the key, so that the same key can be retried once the condition clears. Keys live in
 * the database as digests, scoped to the account, with their responses sealed by a key derived from the
 * Idempotency-Key, so they hold across processes and restarts and a copy of the database reveals no response.
 */
export class IdempotencyService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  #purgedAt = Number.NEGATIVE_INFINITY;
  constructor(repos: Repositories, clock: Clock) {
    this.#repos = repos;
    this.#clock = clock;
  }

  async begin(accountId: number, rawKey: string, requestHash: string): Promise<IdempotencyStart> {
    const { idempotency } = this.#repos;
    const key = idempotencyKeyDigest(rawKey);
    const sealKey = responseSealKey(rawKey, accountId, requestHash);
    await this.#forgetExpired(accountId, key);
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
        return { kind: "new", claim: { accountId, key, sealKey } };
      const row = await idempotency.find(accountId, key);
      if (!row) continue;
      if (row.request_hash !== requestHash) {
        throw new Conflict(
          "idempotency_key_reused",
          "This Idempotency-Key was used with a different request.",
        );
      }
      if (row.state === "done" && row.status_code !== null && row.response_body !== null) {
        const body = openResponse(row.response_body, sealKey);
        // Same key and request, hence the same seal key: only a damaged row fails to open.
        if (body === undefined) throw new Error("a stored idempotent response could not be opened");
        return {
          kind: "replay",
          status: row.status_code,
          body,
          headers: JSON.parse(row.response_headers ?? "{}") as Record<string, string>,
        };
      }
      const age = this.#clock.now().getTime() - Date.parse(row.created_at);
      if (row.server_id !== null && row.action_id !== null) {
        // The work committed; its response is on its way, or was lost with its process.
        if (age > 2000) return { kind: "rebuild", serverId: row.server_id, actionId: row.action_id };
      } else if (age > STALE_MS && (await idempotency.restart(accountId, key, row.created_at, now))) {
        return { kind: "new", claim: { accountId, key, sealKey } };
      }
      // The first request is still running: answer with its response once it has one.
      await sleep(50);
    }
  }

  /**
   * Stores the response of work done (2xx), sealed; anything else did nothing worth protecting and releases
   * the key, so that a retry after the condition clears (the action in flight ends, credit arrives) does the work.
   */
  async complete(
    claim: IdempotencyClaim,
    status: number,
    body: string,
    headers: Record<string, string>,
  ): Promise<void> {
    if (status < 200 || status >= 300) {
      await this.#repos.idempotency.release(claim.accountId, claim.key);
      return;
    }
    await this.#repos.idempotency.complete(
      claim.accountId,
      claim.key,
      status,
      sealResponse(body, claim.sealKey),
      JSON.stringify(headers),
    );
  }

  /** The key this request meets, if a day old; and, once an hour per process, every key a day old. */
  async #forgetExpired(accountId: number, key: string): Promise<void> {
    const { idempotency } = this.#repos;
    const expiredBefore = isoAt(this.#clock, -DAY_MS);
    const now = this.#clock.now().getTime();
    if (now - this.#purgedAt >= PURGE_MS) {
      this.#purgedAt = now;
      await idempotency.forgetBefore(expiredBefore);
      return;
    }
    await idempotency.release(accountId, key, expiredBefore);
  }
}
