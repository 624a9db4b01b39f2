import { freeMilli, type Inventory } from "./host-capacity.ts";

// Which hosts take new servers, and in which order: filters, then weighers, as Nova's scheduler does.

/** What an operator sets; `down` is not set but seen: a host whose heartbeat is older than the threshold. */
export const ADMIN_STATES = ["enabled", "disabled", "draining"] as const;
export type AdminState = (typeof ADMIN_STATES)[number];
export type HostState = AdminState | "down";
export const HOST_STATES: readonly HostState[] = [...ADMIN_STATES, "down"];

/** A host is down when it has not been heard from for this long (VPS_HOST_DOWN_AFTER_MS; Nova's is 60 s). */
export const HOST_DOWN_AFTER_MS = 30_000;

/** The oldest heartbeat that still counts as up at `now`, as an ISO string (comparable as text). */
export function freshSince(now: Date, downAfterMs = HOST_DOWN_AFTER_MS): string {
  return new Date(now.getTime() - downAfterMs).toISOString();
}

/** The state an operator sees: `down` whatever was set, when the host is not heard from (or never joined). */
export function effectiveState(
  adminState: AdminState,
  lastHeartbeatAt: string | null,
  since: string,
): HostState {
  return lastHeartbeatAt === null || lastHeartbeatAt < since ? "down" : adminState;
}

/** Only an enabled host that is up takes new servers; a draining one is being emptied. */
export function admitsPlacement(state: HostState): boolean {
  return state === "enabled";
}

/** The image filter: a host that reported its images must have the OS's; null means it has every image. */
export function hasImage(images: readonly string[] | null, image: string): boolean {
  return images === null || images.includes(image);
}

/** The name of a process's embedded host in a location: shared by every process on a sim database. */
export function embeddedHostName(driver: string, machineName: string, locationCode: string): string {
  return driver === "sim" ? `sim-${locationCode}` : `${machineName}-${locationCode}`;
}

/** `spread` puts a server where most memory is free (the default); `pack` fills the fullest host first. */
export const PLACEMENT_POLICIES = ["spread", "pack"] as const;
export type PlacementPolicy = (typeof PLACEMENT_POLICIES)[number];

export interface Weighable {
  id: number;
  inventory: Inventory;
}

/** Candidates in the order to try them; ties go to the lower id, so the order is the same everywhere. */
export function weigh<T extends Weighable>(hosts: readonly T[], policy: PlacementPolicy): T[] {
  const sign = policy === "spread" ? -1 : 1;
  return [...hosts].sort((a, b) => {
    const byMemory = sign * (freeMilli(a.inventory, "memory_mb") - freeMilli(b.inventory, "memory_mb"));
    return byMemory !== 0 ? byMemory : a.id - b.id;
  });
}
