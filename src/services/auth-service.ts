import type { Repositories } from "../db/repositories/repositories.ts";
import { bearerToken, hashToken, sameDigest } from "../domain/api-token.ts";
import type { Clock } from "../domain/clock.ts";
import { Unauthorized } from "../domain/errors.ts";
import { AuthFailureLimit, type AuthFailureLimits } from "./auth-failure-limit.ts";
import type { TokenVerdicts } from "./token-verdicts.ts";

export const ADMIN_TOKEN_SETTING = "admin_token_sha256";
/** The admin token's budgets are counted under this id, which no API token has (theirs start at 1). */
export const ADMIN_TOKEN_ID = 0;

/** Who a request's bearer token belongs to; an address that keeps sending wrong tokens is refused for a while. */
export class AuthService {
  readonly #repos: Repositories;
  readonly #failures: AuthFailureLimit;
  readonly #verdicts: TokenVerdicts;
  /** The digest of VPS_METRICS_TOKEN, when set. */
  readonly #metricsDigest: string | undefined;
  constructor(
    repos: Repositories,
    clock: Clock,
    limits: AuthFailureLimits,
    verdicts: TokenVerdicts,
    metricsToken?: string,
  ) {
    this.#repos = repos;
    this.#verdicts = verdicts;
    this.#failures = new AuthFailureLimit(repos, clock, limits);
    this.#metricsDigest = metricsToken === undefined ? undefined : hashToken(metricsToken);
  }

  /**
   * The account id of the token in the header; 401 for a missing, malformed, unknown or revoked token, and 429
   * from an address past its limit of failed authentications.
   */
  async authenticate(
    header: string | undefined,
    address: string,
  ): Promise<{ accountId: number; tokenId: number }> {
    return this.#guarded(header, address, undefined, async (token) => {
      const digest = hashToken(token);
      const kept = this.#verdicts.find(digest);
      if (kept) return { accountId: kept.accountId, tokenId: kept.tokenId };
      const forgets = this.#verdicts.forgets;
      const owner = await this.#repos.tokens.findActiveByHash(digest);
      if (!owner || !sameDigest(owner.tokenHash, digest)) throw new Unauthorized("Invalid API token.");
      this.#verdicts.keep(digest, owner, forgets);
      return { accountId: owner.accountId, tokenId: owner.tokenId };
    });
  }

  /**
   * The owner of the header's token when this process keeps a verdict on it and the address is not refused, at
   * once; undefined when `authenticate` must decide (it reads the token, answers 401 or 429).
   */
  keptOwner(header: string | undefined, address: string): { accountId: number; tokenId: number } | undefined {
    if (!header || this.#failures.refusal(address)) return undefined;
    const token = bearerToken(header);
    return token === undefined ? undefined : this.#verdicts.find(hashToken(token));
  }

  async authenticateAdmin(header: string | undefined, address: string): Promise<void> {
    await this.#guarded(header, address, "Invalid or missing admin token.", async (token) => {
      const stored = await this.#repos.settings.get(ADMIN_TOKEN_SETTING);
      if (!stored || !sameDigest(stored, hashToken(token))) {
        throw new Unauthorized("Invalid or missing admin token.");
      }
    });
  }

  /** A scrape of `/metrics`: the metrics token, compared in constant time (as digests, whatever its length). */
  async authenticateMetrics(header: string | undefined, address: string): Promise<void> {
    const expected = this.#metricsDigest;
    await this.#guarded(header, address, "Invalid or missing metrics token.", async (token) => {
      if (!expected || !sameDigest(expected, hashToken(token))) {
        throw new Unauthorized("Invalid or missing metrics token.");
      }
    });
  }

  /** An agent's host credential: the id of the host it belongs to. */
  async authenticateHost(header: string | undefined, address: string): Promise<number> {
    return this.#guarded(header, address, undefined, async (token) => {
      const digest = hashToken(token);
      const owner = await this.#repos.hosts.findActiveCredential(digest);
      if (!owner || !sameDigest(owner.tokenHash, digest)) throw new Unauthorized("Invalid host credential.");
      return owner.hostId;
    });
  }

  async #guarded<T>(
    header: string | undefined,
    address: string,
    missing: string | undefined,
    verify: (token: string) => Promise<T>,
  ): Promise<T> {
    const refused = this.#failures.refusal(address);
    if (refused) throw refused;
    // No header is no attempt: it is answered 401 but not counted.
    if (!header) throw new Unauthorized(missing);
    const token = bearerToken(header);
    try {
      if (!token) throw new Unauthorized("Malformed Authorization header; use: Bearer <token>.");
      return await verify(token);
    } catch (err) {
      if (!(err instanceof Unauthorized)) throw err;
      throw (await this.#failures.fail(address)) ?? err;
    }
  }
}
