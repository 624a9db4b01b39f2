import { GuestAgentClient } from "./guest-agent-client.ts";
import type { GuestFreezer } from "./guest-freezer.ts";

/** How long a guest has to answer before it is taken to run no agent: its copy is then crash-consistent. */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * Freezes through the qemu-guest-agent listening on each VM's `qga.sock`. Each call opens its own connection:
 * after a freeze that timed out the agent may still be busy with it, and the thaw must not queue behind it.
 */
export function guestAgentFreezer(socketOf: (id: string) => string): GuestFreezer {
  const call = <T>(id: string, signal: AbortSignal, use: (agent: GuestAgentClient) => Promise<T>) => {
    signal.throwIfAborted();
    return GuestAgentClient.with(socketOf(id), use, { timeoutMs: CONNECT_TIMEOUT_MS });
  };
  return {
    freeze: (id, signal) => call(id, signal, (agent) => agent.fsfreezeFreeze()),
    thaw: async (id, signal) => {
      await call(id, signal, (agent) => agent.fsfreezeThaw());
    },
  };
}
