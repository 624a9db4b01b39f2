import type { Logger } from "pino";

/**
 * Freezes and thaws a guest's filesystems (qemu-guest-agent's guest-fsfreeze-freeze and -thaw), so that a
 * running VM's disk copy is filesystem-consistent. Optional: without one, or where the guest does not answer,
 * a copy is crash-consistent.
 */
export interface GuestFreezer {
  /** Freezes the guest's filesystems; how many it froze (0: none, e.g. no agent in the guest). */
  freeze(id: string, signal: AbortSignal): Promise<number>;
  thaw(id: string, signal: AbortSignal): Promise<void>;
}

/** A freeze in effect: how many filesystems it froze, and the thaw to call (always, whatever happened). */
export interface Frozen {
  filesystems: number;
  thaw(): Promise<void>;
}

const NOTHING_FROZEN: Frozen = { filesystems: 0, thaw: async () => {} };

/**
 * Freezes the guest, giving up after `timeoutMs`: a guest agent can hang inside a freeze (QEMU issue 520), and a
 * copy must not wait on it. A freeze that failed or timed out still gets its thaw, as a freeze that completes late
 * would leave the guest's writes blocked.
 */
export async function freezeGuest(
  freezer: GuestFreezer | undefined,
  id: string,
  timeoutMs: number,
  log: Logger,
): Promise<Frozen> {
  if (!freezer) return NOTHING_FROZEN;
  const thaw = async () => {
    await freezer.thaw(id, AbortSignal.timeout(timeoutMs)).catch((err: unknown) => {
      log.warn({ vm: id, err }, "qemu: guest filesystems could not be thawed");
    });
  };
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = new Promise<never>((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  try {
    const filesystems = await Promise.race([freezer.freeze(id, signal), timedOut]);
    return { filesystems, thaw };
  } catch (err) {
    log.warn({ vm: id, err }, "qemu: guest filesystems not frozen; the copy is crash-consistent");
    return { filesystems: 0, thaw };
  }
}
