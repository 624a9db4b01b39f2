import type { TokenOwner } from "../db/repositories/token-repository.ts";

/** How many tokens a process keeps verdicts on; past it the oldest is dropped. */
const MAX_KEPT = 10_000;

/**
 * Verdicts on API tokens by digest, kept for `ttlMs`, so that a client's requests do not each read its token.
 * Only tokens found active are kept (an unknown or revoked token is read every time, and every failure counted).
 * A revoke forgets its token in the process that made it at once and, on PostgreSQL, in every other process
 * when the revoke's notification arrives; whatever the notifications do, a kept verdict lapses after `ttlMs`,
 * so a revoked token is refused by every process within `ttlMs` of the revoke's commit. 0 keeps nothing.
 */
export class TokenVerdicts {
  readonly #ttlMs: number;
  readonly #kept = new Map<string, { owner: TokenOwner; until: number }>();
  /** Counts forgets, so that a read that began before a revoke does not keep what it read. */
  #forgets = 0;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** Pass to `keep` what this was before the token was read. */
  get forgets(): number {
    return this.#forgets;
  }

  find(digest: string): TokenOwner | undefined {
    const kept = this.#kept.get(digest);
    if (kept === undefined) return undefined;
    if (kept.until > performance.now()) return kept.owner;
    this.#kept.delete(digest);
    return undefined;
  }

  /** Keeps an active token's owner, unless a token was forgotten since `forgetsBefore` (its read may be stale). */
  keep(digest: string, owner: TokenOwner, forgetsBefore: number): void {
    if (this.#ttlMs === 0 || forgetsBefore !== this.#forgets) return;
    if (this.#kept.size >= MAX_KEPT) {
      const oldest = this.#kept.keys().next().value;
      if (oldest !== undefined) this.#kept.delete(oldest);
    }
    this.#kept.set(digest, { owner, until: performance.now() + this.#ttlMs });
  }

  /** The token was revoked. */
  forget(tokenId: number): void {
    this.#forgets++;
    for (const [digest, kept] of this.#kept) if (kept.owner.tokenId === tokenId) this.#kept.delete(digest);
  }

  /** Revokes may have been missed (the notifications' connection was lost): nothing kept is trusted. */
  forgetAll(): void {
    this.#forgets++;
    this.#kept.clear();
  }
}
