import type { StoredServerStatus } from "./server-status.ts";

// What a host that returns must do so that its machines match the database: the control plane decides, the host
// converges. A machine is never started for a server placed on another host (its disk is there; two copies of
// one machine corrupt it), and a server with an operation in flight is left to that operation.

/** A machine's power as its host observes it. */
export type ObservedPower = "running" | "stopped" | "missing";

/** What the database holds of a server whose machine the host reported. */
export interface ReconciledServer {
  id: number;
  /** The host it is placed on; null for a server made before placement and never adopted. */
  hostId: number | null;
  status: StoredServerStatus;
  deleted: boolean;
  /** Whether an operation of it is unfinished. */
  busy: boolean;
}

export interface Correction {
  /** The machine's name on the host (a server's id as text). */
  machine: string;
  action: "start" | "stop" | "destroy";
  /** The server it belongs to; null for a machine of no server, which only its host can destroy. */
  serverId: number | null;
  /** The server's status when the plan was made: a stop of a `suspended` server keeps it suspended. */
  status: StoredServerStatus | null;
}

/** Statuses whose machine should be off. */
const SHOULD_BE_OFF: ReadonlySet<StoredServerStatus> = new Set(["stopped", "suspended"]);

/** A server's machine is named by its id in decimal; any other name is not the control plane's. */
const SERVER_MACHINE = /^[1-9]\d{0,15}$/;

/**
 * The corrections that make the host `hostId` match the database, given what it observes (machine name → power)
 * and the servers those machines belong to: destroy the machines of deleted servers (and of no server), start
 * the machines of `active` servers that are off, stop those of `stopped` or `suspended` servers that run.
 * Nothing for a server that is busy, placed elsewhere, or in any other status. In machine order.
 */
export function reconciliationPlan(
  hostId: number,
  observed: ReadonlyMap<string, ObservedPower>,
  servers: readonly ReconciledServer[],
): Correction[] {
  const byId = new Map(servers.map((server) => [server.id, server]));
  const corrections: Correction[] = [];
  const machines = [...observed.keys()].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  for (const machine of machines) {
    const power = observed.get(machine);
    if (power === "missing" || !SERVER_MACHINE.test(machine)) continue;
    const server = byId.get(Number(machine));
    if (!server) {
      corrections.push({ machine, action: "destroy", serverId: null, status: null });
      continue;
    }
    if (server.hostId !== hostId || server.busy) continue;
    const correction = { machine, serverId: server.id, status: server.status };
    if (server.deleted) corrections.push({ ...correction, action: "destroy" });
    else if (server.status === "active" && power === "stopped")
      corrections.push({ ...correction, action: "start" });
    else if (SHOULD_BE_OFF.has(server.status) && power === "running")
      corrections.push({ ...correction, action: "stop" });
  }
  return corrections;
}
