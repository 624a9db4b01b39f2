import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { PlanRow, ServerRow, ServerUsageRow, UsageMinuteRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { nextUsage, type Usage } from "../domain/usage.ts";
import { minuteOf } from "../domain/usage-history.ts";
import type { MachineStats, PowerState } from "../drivers/driver.ts";

// The power sync's rules, whoever observed the machine: this process's driver, or a host agent's report.

/**
 * Corrects a settled server's status from its machine's observed power state (a machine that died is
 * `stopped`; one that vanished is `error`: it cannot be started again), unless the server changed since it was
 * read. The status it has now.
 */
export async function correctStatus(
  repos: Repositories,
  clock: Clock,
  log: Logger,
  server: Pick<ServerRow, "id" | "status" | "updated_at">,
  observed: PowerState,
): Promise<ServerRow["status"]> {
  const now = isoAt(clock);
  const unchangedSince = server.updated_at;
  if (server.status === "active" && observed !== "running") {
    const to = observed === "missing" ? "error" : "stopped";
    if (await repos.servers.swapStatus(server.id, "active", to, now, { unchangedSince })) {
      log.warn({ server: server.id, observed, status: to }, "machine is not running; status corrected");
      return to;
    }
  } else if (server.status === "stopped" && observed === "running") {
    if (await repos.servers.swapStatus(server.id, "stopped", "active", now, { unchangedSince })) {
      log.warn({ server: server.id, observed }, "machine is running; status corrected");
      return "active";
    }
  }
  return server.status;
}

/**
 * Records the server's usage now from its machine's counters: null (not running) is zeros and this month's bandwidth.
 * The usage history takes the periodic samples only (`recordUsages`): this one, right after a server comes up, would
 * cost every start a second write, and the next sync's sample counts from it.
 */
export async function recordUsage(
  repos: Repositories,
  clock: Clock,
  server: Pick<ServerRow, "id" | "plan_id">,
  stats: MachineStats | null,
): Promise<void> {
  const [plan, previous] = await Promise.all([
    repos.catalogue.findPlan(server.plan_id),
    repos.usage.find(server.id),
  ]);
  if (!plan) return;
  await repos.usage.save(usageRow(server.id, nextUsageOf(plan, previous, stats, isoAt(clock))));
}

/**
 * `recordUsage` for many servers at once (an agent's report of all its machines): their previous samples in one
 * read, their new ones in one write, so a report costs a few round trips however many machines it names.
 */
export async function recordUsages(
  repos: Repositories,
  clock: Clock,
  samples: readonly { server: Pick<ServerRow, "id" | "plan_id">; stats: MachineStats | null }[],
): Promise<void> {
  if (samples.length === 0) return;
  const previous = new Map(
    (await repos.usage.findMany(samples.map((s) => s.server.id))).map((row) => [row.server_id, row]),
  );
  const plans = new Map<number, PlanRow | undefined>();
  for (const { server } of samples) {
    if (!plans.has(server.plan_id)) plans.set(server.plan_id, await repos.catalogue.findPlan(server.plan_id));
  }
  const now = isoAt(clock);
  const rows: ServerUsageRow[] = [];
  const minutes: UsageMinuteRow[] = [];
  for (const { server, stats } of samples) {
    const plan = plans.get(server.plan_id);
    if (!plan) continue;
    const usage = nextUsageOf(plan, previous.get(server.id), stats, now);
    rows.push(usageRow(server.id, usage));
    minutes.push(minuteRow(server.id, usage, now));
  }
  await repos.usage.saveMany(rows);
  // The usage history: one more statement per report, however many machines it names.
  await repos.usageHistory.record(minutes);
}

function nextUsageOf(
  plan: Pick<PlanRow, "vcpus" | "memory_mb" | "storage_gb">,
  previous: ServerUsageRow | undefined,
  stats: MachineStats | null,
  now: string,
): Usage {
  return nextUsage(
    previous && {
      period: previous.period,
      bandwidthBytes: Number(previous.bandwidth_bytes),
      bandwidthInBytes: Number(previous.bandwidth_in_bytes),
      bandwidthOutBytes: Number(previous.bandwidth_out_bytes),
      lastCpuNs: Number(previous.last_cpu_ns),
      lastNetInBytes: previous.last_net_in_bytes === null ? null : Number(previous.last_net_in_bytes),
      lastNetOutBytes: previous.last_net_out_bytes === null ? null : Number(previous.last_net_out_bytes),
      sampledAt: previous.sampled_at,
      diskUsed: previous.disk_used,
    },
    stats,
    { vcpus: plan.vcpus, memoryMb: plan.memory_mb, storageGb: plan.storage_gb },
    now,
  );
}

function usageRow(serverId: number, usage: Usage): ServerUsageRow {
  return {
    server_id: serverId,
    cpu_percent: usage.cpuPercent,
    memory_used: usage.memoryUsed,
    disk_used: usage.diskUsed,
    period: usage.period,
    bandwidth_bytes: usage.bandwidthBytes,
    bandwidth_in_bytes: usage.bandwidthInBytes,
    bandwidth_out_bytes: usage.bandwidthOutBytes,
    last_cpu_ns: usage.lastCpuNs,
    last_net_bytes: (usage.lastNetInBytes ?? 0) + (usage.lastNetOutBytes ?? 0),
    last_net_in_bytes: usage.lastNetInBytes,
    last_net_out_bytes: usage.lastNetOutBytes,
    sampled_at: usage.sampledAt,
  };
}

/** The sample as its minute of the usage history. */
function minuteRow(serverId: number, usage: Usage, now: string): UsageMinuteRow {
  const ms = Date.parse(now);
  return {
    server_id: serverId,
    at: minuteOf(ms),
    samples: 1,
    cpu_sum: usage.cpuPercent,
    memory_sum: usage.memoryUsed,
    disk_max: usage.diskUsed,
    net_bytes: usage.netInBytes + usage.netOutBytes,
    net_in_bytes: usage.netInBytes,
    net_out_bytes: usage.netOutBytes,
    last_sample_ms: ms,
  };
}
