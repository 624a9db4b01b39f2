import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { PoolStats } from "../db/database.ts";
import type { HostState } from "../domain/host-placement.ts";
import { HOST_STATES } from "../domain/host-placement.ts";
import { OPERATION_KINDS, type OperationEnd, type OperationKind } from "../domain/lifecycle.ts";

/** What the gauges read at each scrape, from the database: cheap, one query each. */
export interface MetricsSources {
  /** Unfinished operations by status, and when the oldest of each status was queued (ISO). */
  queue(): Promise<{ status: string; count: number; oldest: string | null }[]>;
  /** Hosts by effective state. */
  hosts(): Promise<{ state: HostState; count: number }[]>;
  /** The PostgreSQL pool's counts; none on SQLite. */
  pool?: () => PoolStats;
  /** Now, for the age of the oldest operation. */
  now(): Date;
}

const BILLING_OUTCOMES = ["succeeded", "failed"] as const;
export type BillingOutcome = (typeof BILLING_OUTCOMES)[number];
const OPERATION_ENDS: readonly OperationEnd[] = ["succeeded", "failed", "cancelled"];

/** Seconds; from a millisecond (most answers here) to a long poll's half minute. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BILLING_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
/** What a request that matched no route is counted under: its path would be an unbounded label. */
export const UNMATCHED_ROUTE = "unmatched";

/** The process's own metrics (CPU, memory, event loop, GC): one set per process, however many planes it runs. */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

interface RequestSeries {
  count: Counter.Internal;
  duration: Histogram.Internal<"method" | "route">;
}

/**
 * The operators' metrics of one control plane, in a registry of its own (never prom-client's global one: a test
 * process runs many planes). The request path and the engine count through the methods here; the gauges of the
 * queue, the hosts and the pool are read at scrape time.
 */
export class Metrics {
  readonly #registry = new Registry();
  readonly #requests: Counter<"method" | "route" | "status">;
  readonly #requestSeconds: Histogram<"method" | "route">;
  /** The labelled children by `method status route`: a request's count is a map lookup and two additions. */
  readonly #series = new Map<string, RequestSeries>();
  readonly #operations: Counter<"kind" | "outcome">;
  readonly #billingRuns: Counter<"outcome">;
  readonly #billingSeconds: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.#registry];
    this.#requests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.#requestSeconds = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time from a request's arrival to its answer, by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.#operations = new Counter({
      name: "vps_operations_finished_total",
      help: "Operations ended by this process, by kind and outcome (succeeded, failed, cancelled).",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.#billingRuns = new Counter({
      name: "vps_billing_runs_total",
      help: "Runs of the billing cycle in this process, by outcome.",
      labelNames: ["outcome"],
      registers,
    });
    this.#billingSeconds = new Histogram({
      name: "vps_billing_run_duration_seconds",
      help: "How long a run of the billing cycle took.",
      buckets: BILLING_BUCKETS,
      registers,
    });
    // Every series exists from the start, at zero, so that a rate over it is right from its first increase.
    for (const kind of OPERATION_KINDS) {
      for (const outcome of OPERATION_ENDS) this.#operations.inc({ kind, outcome }, 0);
    }
    for (const outcome of BILLING_OUTCOMES) this.#billingRuns.inc({ outcome }, 0);
    this.#queueGauges(sources);
    new Gauge({
      name: "vps_hosts",
      help: "Hosts by effective state (down: not heard from within VPS_HOST_DOWN_AFTER_MS).",
      labelNames: ["state"],
      registers,
      async collect() {
        const counts = new Map((await sources.hosts()).map((row) => [row.state, row.count]));
        for (const state of HOST_STATES) this.set({ state }, counts.get(state) ?? 0);
      },
    });
    if (sources.pool) this.#poolGauges(sources.pool);
  }

  /** One answered request; `route` is the route's pattern (or UNMATCHED_ROUTE), never the URL. */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        count: this.#requests.labels(method, route, String(status)),
        duration: this.#requestSeconds.labels(method, route),
      };
      this.#series.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  operationFinished(kind: OperationKind, outcome: OperationEnd): void {
    this.#operations.inc({ kind, outcome });
  }

  billingRun(outcome: BillingOutcome, seconds: number): void {
    this.#billingRuns.inc({ outcome });
    this.#billingSeconds.observe(seconds);
  }

  readonly contentType = this.#registry.contentType;

  /** The text exposition format: the process's metrics, then the plane's. */
  async exposition(): Promise<string> {
    const [process, plane] = await Promise.all([processMetrics().metrics(), this.#registry.metrics()]);
    return `${process}${plane}`;
  }

  #queueGauges(sources: MetricsSources): void {
    // One query answers both gauges; a scrape collects them together, so the second reuses the first's read.
    let reading: Promise<Awaited<ReturnType<MetricsSources["queue"]>>> | undefined;
    const read = () => {
      reading ??= sources.queue().finally(() => {
        setImmediate(() => {
          reading = undefined;
        });
      });
      return reading;
    };
    const registers = [this.#registry];
    new Gauge({
      name: "vps_operation_queue_depth",
      help: "Unfinished operations (all processes' shared queue), by status: pending (waiting or due for a retry) or running.",
      labelNames: ["status"],
      registers,
      async collect() {
        const rows = await read();
        for (const status of ["pending", "running"]) {
          this.set({ status }, rows.find((row) => row.status === status)?.count ?? 0);
        }
      },
    });
    new Gauge({
      name: "vps_operation_queue_oldest_age_seconds",
      help: "Age of the oldest unfinished operation since it was queued; 0 when there is none.",
      registers,
      async collect() {
        const oldest = (await read())
          .map((row) => row.oldest)
          .filter((at): at is string => at !== null)
          .sort()[0];
        const age = oldest === undefined ? 0 : (sources.now().getTime() - Date.parse(oldest)) / 1000;
        this.set(Math.max(0, age));
      },
    });
  }

  #poolGauges(pool: () => PoolStats): void {
    const registers = [this.#registry];
    const gauge = (name: string, help: string, pick: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(pool()));
        },
      });
    gauge("vps_db_pool_connections", "PostgreSQL connections the pool holds open.", (s) => s.total);
    gauge("vps_db_pool_idle_connections", "PostgreSQL connections of the pool not in use.", (s) => s.idle);
    gauge("vps_db_pool_waiting_queries", "Queries waiting for a connection of the pool.", (s) => s.waiting);
  }
}
