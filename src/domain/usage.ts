import { BANDWIDTH_GB_BYTES } from "./bandwidth.ts";

// Turns a driver's cumulative counters into what `resource_usage` shows: a CPU rate since the last
// sample and the traffic of the current calendar month in each direction, bounded by the plan.

export interface UsageSample {
  cpuTimeNs: number;
  memoryUsedMb: number;
  diskUsedGb: number;
  /** Bytes the machine received and sent, counted on the host (driver.ts). */
  netInBytes: number;
  netOutBytes: number;
}

export interface UsageState {
  period: string;
  /** The month's billable traffic: the larger of its bytes in and out, never less than it was. */
  bandwidthBytes: number;
  bandwidthInBytes: number;
  bandwidthOutBytes: number;
  lastCpuNs: number;
  /** The network counters at the last sample; null: none known (the next sample only sets them). */
  lastNetInBytes: number | null;
  lastNetOutBytes: number | null;
  sampledAt: string;
  /** A stopped machine still occupies its disk, so the last known figure stays. */
  diskUsed: number;
}

export interface PlanLimits {
  vcpus: number;
  memoryMb: number;
  storageGb: number;
}

export interface Usage extends UsageState {
  cpuPercent: number;
  memoryUsed: number;
  /** Bytes received and sent since the last sample (the usage history's network figures). */
  netInBytes: number;
  netOutBytes: number;
}

/** The month a timestamp falls in, "YYYY-MM" (UTC). */
export function usagePeriod(at: string): string {
  return at.slice(0, 7);
}

/**
 * Counters that went backwards were reset (the machine restarted, or moved host), so the whole new value is the
 * delta; with no previous counter (null) the sample only sets it.
 */
function delta(current: number, previous: number | null): number {
  if (previous === null) return 0;
  return current >= previous ? current - previous : current;
}

export function nextUsage(
  previous: UsageState | undefined,
  sample: UsageSample | null,
  plan: PlanLimits,
  now: string,
): Usage {
  const period = usagePeriod(now);
  const month = previous && previous.period === period ? previous : undefined;
  const carried = {
    bandwidthBytes: month?.bandwidthBytes ?? 0,
    bandwidthInBytes: month?.bandwidthInBytes ?? 0,
    bandwidthOutBytes: month?.bandwidthOutBytes ?? 0,
  };
  if (!sample) {
    // The network counters are kept: the drivers' go on from them at the next start (a tap, a VM's meter), and
    // one that starts again from zero reads as a reset.
    return {
      period,
      ...carried,
      lastCpuNs: 0,
      lastNetInBytes: previous?.lastNetInBytes ?? 0,
      lastNetOutBytes: previous?.lastNetOutBytes ?? 0,
      sampledAt: now,
      cpuPercent: 0,
      memoryUsed: 0,
      netInBytes: 0,
      netOutBytes: 0,
      diskUsed: previous?.diskUsed ?? 0,
    };
  }
  const elapsedNs = previous ? (Date.parse(now) - Date.parse(previous.sampledAt)) * 1e6 : 0;
  const cpuNs = delta(sample.cpuTimeNs, previous?.lastCpuNs ?? 0);
  const cpuPercent = elapsedNs > 0 ? (cpuNs / (elapsedNs * plan.vcpus)) * 100 : 0;
  // A server seen for the first time counts its counters whole; one whose counters are unknown only sets them.
  const netInBytes = delta(sample.netInBytes, previous ? previous.lastNetInBytes : 0);
  const netOutBytes = delta(sample.netOutBytes, previous ? previous.lastNetOutBytes : 0);
  const bandwidthInBytes = carried.bandwidthInBytes + netInBytes;
  const bandwidthOutBytes = carried.bandwidthOutBytes + netOutBytes;
  return {
    period,
    bandwidthBytes: Math.max(carried.bandwidthBytes, bandwidthInBytes, bandwidthOutBytes),
    bandwidthInBytes,
    bandwidthOutBytes,
    netInBytes,
    netOutBytes,
    lastCpuNs: sample.cpuTimeNs,
    lastNetInBytes: sample.netInBytes,
    lastNetOutBytes: sample.netOutBytes,
    sampledAt: now,
    cpuPercent: Math.round(Math.min(100, Math.max(0, cpuPercent)) * 10) / 10,
    memoryUsed: Math.min(plan.memoryMb, Math.max(0, Math.round(sample.memoryUsedMb))),
    diskUsed: Math.min(plan.storageGb, Math.max(0, Math.round(sample.diskUsedGb))),
  };
}

/** Bytes to whole gigabytes (10^9), as `bandwidth_used` reports them. */
export function bytesToGb(bytes: number): number {
  return Math.floor(bytes / BANDWIDTH_GB_BYTES);
}
