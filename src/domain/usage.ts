// Turns a driver's cumulative counters into what `resource_usage` shows: a CPU rate since the last
// sample and the bandwidth used in the current calendar month, bounded by the plan.

export interface UsageSample {
  cpuTimeNs: number;
  memoryUsedMb: number;
  diskUsedGb: number;
  netBytes: number;
}

export interface UsageState {
  period: string;
  bandwidthBytes: number;
  lastCpuNs: number;
  lastNetBytes: number;
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
  /** Bytes transferred since the last sample (the usage history's network figure). */
  netBytes: number;
}

/** The month a timestamp falls in, "YYYY-MM" (UTC). */
export function usagePeriod(at: string): string {
  return at.slice(0, 7);
}

/** Counters that went backwards mean the machine restarted, so the whole new value is the delta. */
function delta(current: number, previous: number): number {
  return current >= previous ? current - previous : current;
}

export function nextUsage(
  previous: UsageState | undefined,
  sample: UsageSample | null,
  plan: PlanLimits,
  now: string,
): Usage {
  const period = usagePeriod(now);
  const carried = previous && previous.period === period ? previous.bandwidthBytes : 0;
  if (!sample) {
    return {
      period,
      bandwidthBytes: carried,
      lastCpuNs: 0,
      lastNetBytes: 0,
      sampledAt: now,
      cpuPercent: 0,
      memoryUsed: 0,
      netBytes: 0,
      diskUsed: previous?.diskUsed ?? 0,
    };
  }
  const elapsedNs = previous ? (Date.parse(now) - Date.parse(previous.sampledAt)) * 1e6 : 0;
  const cpuNs = delta(sample.cpuTimeNs, previous?.lastCpuNs ?? 0);
  const cpuPercent = elapsedNs > 0 ? (cpuNs / (elapsedNs * plan.vcpus)) * 100 : 0;
  const netBytes = delta(sample.netBytes, previous?.lastNetBytes ?? 0);
  return {
    period,
    bandwidthBytes: carried + netBytes,
    netBytes,
    lastCpuNs: sample.cpuTimeNs,
    lastNetBytes: sample.netBytes,
    sampledAt: now,
    cpuPercent: Math.round(Math.min(100, Math.max(0, cpuPercent)) * 10) / 10,
    memoryUsed: Math.min(plan.memoryMb, Math.max(0, Math.round(sample.memoryUsedMb))),
    diskUsed: Math.min(plan.storageGb, Math.max(0, Math.round(sample.diskUsedGb))),
  };
}

/** Bytes to whole gigabytes (10^9), as `bandwidth_used` reports them. */
export function bytesToGb(bytes: number): number {
  return Math.floor(bytes / 1e9);
}
