import type { Repositories } from "../db/repositories/repositories.ts";
import { clientAddressKey } from "../domain/client-address.ts";
import type { Clock } from "../domain/clock.ts";
import { RateLimited } from "../domain/errors.ts";

export interface AuthFailureLimits {
  /** Failed authentications per client address and window; 0 turns the limit off. */
  failures: number;
  windowMs: number;
}

/**
 * Failed authentications per client address in fixed windows, counted in the database (one atomic statement per
 * failure, before it is answered) so that every process shares one count. Once the limit is spent the address
 * is refused whatever token it sends, the right one included, until the window ends: answering a right token
 * would tell a guesser which guess was right. A process learns that an address is refused from the failures it
 * counts itself, so across processes an address can have at most one more guess answered per further process.
 */
export class AuthFailureLimit {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #limits: AuthFailureLimits;
  /** Addresses refused in this process, with the end of their window. */
  readonly #refused = new Map<string, number>();
  #cleanedWindow = -1;

  constructor(repos: Repositories, clock: Clock, limits: AuthFailureLimits) {
    this.#repos = repos;
    this.#clock = clock;
    this.#limits = limits;
  }

  /** The 429 for an address that has spent its failures in this window, if it has. */
  refusal(ip: string): RateLimited | undefined {
    if (this.#limits.failures === 0 || this.#refused.size === 0) return undefined;
    const until = this.#refused.get(clientAddressKey(ip));
    if (until === undefined) return undefined;
    const now = this.#clock.now().getTime();
    if (until <= now) return undefined;
    return new RateLimited(Math.max(1, Math.ceil((until - now) / 1000)));
  }

  /** Counts a failed authentication; the 429 to answer instead of the 401 when the limit was already spent. */
  async fail(ip: string): Promise<RateLimited | undefined> {
    if (this.#limits.failures === 0) return undefined;
    const { windowMs } = this.#limits;
    const now = this.#clock.now().getTime();
    const start = Math.floor(now / windowMs) * windowMs;
    if (this.#cleanedWindow !== start) {
      // Once per window and process, forget the windows before this one.
      this.#cleanedWindow = start;
      for (const [address, until] of this.#refused) if (until <= now) this.#refused.delete(address);
      await this.#repos.rateLimits.forgetFailuresBefore(new Date(start).toISOString());
    }
    const address = clientAddressKey(ip);
    const count = await this.#repos.rateLimits.countFailure(address, new Date(start).toISOString());
    // The failure that spends the limit is still a 401; whatever follows from the address is a 429.
    if (count >= this.#limits.failures) this.#refused.set(address, start + windowMs);
    return count > this.#limits.failures ? this.refusal(ip) : undefined;
  }
}
