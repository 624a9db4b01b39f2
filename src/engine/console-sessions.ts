import { ConsoleLimitReached } from "../domain/errors.ts";

/**
 * How many consoles of each server this process has open, held under `limit`: the control plane counts the
 * consoles it relays, and a host agent the ones it serves, so a server's serial port is never shared by more.
 */
export class ConsoleSessions {
  readonly limit: number;
  readonly #open = new Map<number, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Whether the server has no place left, so that a ticket is refused before it is issued for nothing. */
  full(serverId: number): boolean {
    return (this.#open.get(serverId) ?? 0) >= this.limit;
  }

  /** Takes a place for one more console of the server (409 `console_limit_reached` when none is left). */
  take(serverId: number): () => void {
    const open = this.#open.get(serverId) ?? 0;
    if (open >= this.limit) throw new ConsoleLimitReached(this.limit);
    this.#open.set(serverId, open + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.#open.get(serverId) ?? 1) - 1;
      if (left > 0) this.#open.set(serverId, left);
      else this.#open.delete(serverId);
    };
  }
}
