import { InvalidInput } from "./errors.ts";

// The usage history: every sample is folded into its server's minute (kept a day), minutes are rolled up into
// hours (kept 31 days), and a metrics query sums them into buckets of its step. Times are unix seconds.

export const MINUTE_S = 60;
export const HOUR_S = 3600;
/** Minutes kept per server: the last 24 hours. */
export const FINE_ROWS = 1440;
/** Hours kept per server: the last 31 days. */
export const COARSE_ROWS = 744;
/** Points per series a metrics answer may hold. */
export const MAX_POINTS = 1000;
/** Points per series when the request names no step. */
const DEFAULT_POINTS = 100;

/** What the samples of one minute or hour add up to; averages are sums over `samples`. */
export interface UsageBucket {
  at: number;
  samples: number;
  cpuSum: number;
  memorySum: number;
  diskMax: number;
  /** Bytes received plus sent; and each (0 in rows from before they were counted apart). */
  netBytes: number;
  netInBytes: number;
  netOutBytes: number;
}

export function floorTo(seconds: number, unit: number): number {
  return seconds - (((seconds % unit) + unit) % unit);
}

/** The start of the minute a time (ms) falls in, in unix seconds. */
export function minuteOf(ms: number): number {
  return floorTo(Math.floor(ms / 1000), MINUTE_S);
}

/** The oldest minute and hour a server keeps at `nowMs`: rows before them are pruned. */
export function retainedSince(nowMs: number): { minute: number; hour: number } {
  const now = Math.floor(nowMs / 1000);
  return {
    minute: floorTo(now, MINUTE_S) - (FINE_ROWS - 1) * MINUTE_S,
    hour: floorTo(now, HOUR_S) - (COARSE_ROWS - 1) * HOUR_S,
  };
}

export const METRIC_TYPES = ["cpu", "memory", "disk", "network"] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

/**
 * The series each type answers with, named like Hetzner's where one fits: network is the bytes per second
 * received (`.in`) and sent (`.out`), and, as before they were told apart, both together.
 */
const SERIES: Record<MetricType, Record<string, (b: UsageBucket, step: number) => number>> = {
  cpu: { cpu: (b) => Math.round((b.cpuSum / b.samples) * 10) / 10 },
  memory: { "memory.used": (b) => Math.round(b.memorySum / b.samples) },
  disk: { "disk.0.used": (b) => b.diskMax },
  network: {
    "network.0.bandwidth.in": (b, step) => Math.round(b.netInBytes / step),
    "network.0.bandwidth.out": (b, step) => Math.round(b.netOutBytes / step),
    "network.0.bandwidth": (b, step) => Math.round(b.netBytes / step),
  },
};

export interface MetricsRequest {
  /** Comma-separated types. */
  type: string;
  start: string;
  end: string;
  step?: number;
}

export interface MetricsPlan {
  types: MetricType[];
  start: string;
  end: string;
  /** Minutes when the range starts within the kept day, else hours. */
  resolution: "minute" | "hour";
  /** Seconds per point: the step asked for, rounded up to whole minutes or hours. */
  step: number;
  /** The first bucket's start (the range's start at the resolution) and the range's end, unix seconds. */
  from: number;
  to: number;
}

/** Checks a metrics request and decides which rows answer it and in what buckets. */
export function planMetrics(request: MetricsRequest, nowMs: number): MetricsPlan {
  const types = [...new Set(request.type.split(",").map((t) => t.trim()))];
  if (types.length === 0 || !types.every((t): t is MetricType => METRIC_TYPES.includes(t as MetricType)))
    throw InvalidInput.field("type", `One or more of ${METRIC_TYPES.join(", ")}, separated by commas.`);
  const startMs = Date.parse(request.start);
  const endMs = Date.parse(request.end);
  const fields: Record<string, string[]> = {};
  const iso = ["An ISO 8601 time, such as 2026-11-29T10:00:00Z."];
  if (Number.isNaN(startMs)) fields.start = iso;
  if (Number.isNaN(endMs)) fields.end = iso;
  if (Object.keys(fields).length > 0) throw new InvalidInput(fields);
  if (endMs <= startMs) throw InvalidInput.field("end", "The end must be after the start.");
  const resolution = Math.floor(startMs / 1000) >= retainedSince(nowMs).minute ? "minute" : "hour";
  const unit = resolution === "minute" ? MINUTE_S : HOUR_S;
  const from = floorTo(Math.floor(startMs / 1000), unit);
  const to = Math.ceil(endMs / 1000);
  const step =
    request.step === undefined
      ? Math.max(unit, Math.round((endMs - startMs) / 1000 / DEFAULT_POINTS / unit) * unit)
      : Math.max(unit, Math.ceil(request.step / unit) * unit);
  const points = Math.ceil((to - from) / step);
  if (points > MAX_POINTS) {
    const least = Math.ceil((to - from) / MAX_POINTS / unit) * unit;
    throw InvalidInput.field(
      "step",
      `This range at this step is ${points} points, more than ${MAX_POINTS}: ask for a step of at least ${least} seconds.`,
    );
  }
  return {
    types: types as MetricType[],
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    resolution,
    step,
    from,
    to,
  };
}

export type TimeSeries = Record<string, { values: [number, string][] }>;

/**
 * The plan's series from its rows (ordered by time): each bucket of `step` seconds from `from` is the average CPU
 * (percent of the plan's vCPUs) and memory in use (MiB) of its samples, the most disk in use (GB), and the bytes
 * received and sent per second (each, and both); a bucket without samples has no point.
 */
export function timeSeries(plan: MetricsPlan, rows: readonly UsageBucket[]): TimeSeries {
  const buckets: UsageBucket[] = [];
  for (const row of rows) {
    if (row.at < plan.from || row.at >= plan.to || row.samples <= 0) continue;
    const at = plan.from + Math.floor((row.at - plan.from) / plan.step) * plan.step;
    const last = buckets.at(-1);
    if (last?.at === at) {
      last.samples += row.samples;
      last.cpuSum += row.cpuSum;
      last.memorySum += row.memorySum;
      last.diskMax = Math.max(last.diskMax, row.diskMax);
      last.netBytes += row.netBytes;
      last.netInBytes += row.netInBytes;
      last.netOutBytes += row.netOutBytes;
    } else {
      buckets.push({ ...row, at });
    }
  }
  return Object.fromEntries(
    plan.types.flatMap((type) =>
      Object.entries(SERIES[type]).map(([name, value]) => [
        name,
        { values: buckets.map((b): [number, string] => [b.at, String(value(b, plan.step))]) },
      ]),
    ),
  );
}
