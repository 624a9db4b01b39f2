// One process acting as many host agents, for the fleet benchmark only: each simulated host has its own
// credential and its own HttpHostLink (the agent's real link), heartbeats every third of VPS_HOST_DOWN_AFTER_MS
// and reports its machines every VPS_POWER_SYNC_MS, as HostAgent does. The hosts' first calls are spread over
// one period, as agents started at different times would be. Each call is timed.
import pino from "pino";
import { HttpHostLink, type MachineReport } from "../src/engine/http-host-link.ts";
import type { JoinedHost, PlacedServer } from "./fleet-seed.ts";

export type CallKind = "heartbeat" | "report" | "finish";

export interface Call {
  kind: CallKind;
  /** performance.now() when the call was sent. */
  at: number;
  ms: number;
  ok: boolean;
}

interface Simulated {
  host: JoinedHost;
  link: HttpHostLink;
  capacity: { vcpus: number; memory_mb: number; disk_gb: number };
  servers: PlacedServer[];
  silent: boolean;
  /** performance.now() of the last heartbeat the control plane accepted. */
  lastBeatOk: number;
}

const silentLog = pino({ level: "silent" });

export class FleetSimulator {
  readonly calls: Call[] = [];
  readonly #hosts: Simulated[];
  readonly #heartbeatMs: number;
  readonly #reportMs: number;
  #timers: NodeJS.Timeout[] = [];
  #reporting = false;
  #claiming = false;
  readonly #claimStop = new AbortController();
  #stopped = false;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #began = performance.now();
  /** The first failure of each kind, to say why. */
  readonly firstErrors = new Map<CallKind, string>();

  constructor(
    url: string,
    hosts: { host: JoinedHost; capacity: Simulated["capacity"]; servers: PlacedServer[] }[],
    timing: { heartbeatMs: number; reportMs: number },
  ) {
    this.#heartbeatMs = timing.heartbeatMs;
    this.#reportMs = timing.reportMs;
    this.#hosts = hosts.map(({ host, capacity, servers }) => ({
      host,
      capacity,
      servers,
      silent: false,
      lastBeatOk: 0,
      link: new HttpHostLink({ url, credential: host.credential, log: silentLog, attempts: 1 }),
    }));
  }

  /** Heartbeats of every host, spread over one period; reports too once `startReports` is called. */
  startHeartbeats(): void {
    this.#hosts.forEach((sim, i) => {
      this.#every((i * this.#heartbeatMs) / this.#hosts.length, this.#heartbeatMs, () => this.#beat(sim));
    });
  }

  startReports(): void {
    if (this.#reporting) return;
    this.#reporting = true;
    this.#hosts.forEach((sim, i) => {
      this.#every((i * this.#reportMs) / this.#hosts.length, this.#reportMs, () => this.#report(sim));
    });
  }

  /**
   * Every host's agent keeps a claim open as HostAgent's worker does (a long poll of 25 s, up to 4 operations) and
   * ends each operation it gets at once as succeeded (a sim machine), timed as a `finish`. Operations claimed, and
   * the claims the agents made (answered with work or empty at the poll's end), are counted.
   */
  startClaims(): void {
    if (this.#claiming) return;
    this.#claiming = true;
    for (const sim of this.#hosts) {
      const run = this.#claimLoop(sim).finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
    }
  }

  claims = 0;
  claimed = 0;

  async #claimLoop(sim: Simulated): Promise<void> {
    while (!this.#stopped && !sim.silent) {
      let ops: Awaited<ReturnType<HttpHostLink["claim"]>> = [];
      try {
        ops = await sim.link.claim(4, 25_000, this.#claimStop.signal);
        this.claims++;
      } catch (err) {
        if (!this.firstErrors.has("finish")) this.firstErrors.set("finish", `claim: ${String(err)}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      this.claimed += ops.length;
      await Promise.all(
        ops.map((op) => this.#timed("finish", () => sim.link.succeed(op, {}).then(() => undefined))),
      );
    }
  }

  /** Stops the host's heartbeats and reports, as if it died; when its last heartbeat was accepted. */
  silence(hostId: number): number {
    const sim = this.#hosts.find((s) => s.host.id === hostId);
    if (!sim) throw new Error(`no simulated host ${hostId}`);
    sim.silent = true;
    return sim.lastBeatOk;
  }

  lastBeatOk(hostId: number): number {
    return this.#hosts.find((s) => s.host.id === hostId)?.lastBeatOk ?? 0;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#claimStop.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    await Promise.all(this.#inFlight);
  }

  /**
   * Runs `task` first after `offsetMs`, then every `periodMs` on a fixed schedule (as agents' timers keep
   * firing whether or not the control plane keeps up), never two of one host's at once: one that falls due
   * while the last still runs starts when it ends.
   */
  #every(offsetMs: number, periodMs: number, task: () => Promise<void>): void {
    let due = performance.now() + offsetMs;
    const tick = () => {
      if (this.#stopped) return;
      const run = task().finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
      void run.then(() => {
        due += periodMs;
        if (!this.#stopped) this.#timers.push(setTimeout(tick, Math.max(0, due - performance.now())));
      });
    };
    this.#timers.push(setTimeout(tick, offsetMs));
  }

  async #beat(sim: Simulated): Promise<void> {
    if (sim.silent) return;
    await this.#timed("heartbeat", async () => {
      await sim.link.heartbeat({
        capacity: sim.capacity,
        images: null,
        agentVersion: "bench",
        driver: "sim",
      });
      sim.lastBeatOk = performance.now();
    });
  }

  async #report(sim: Simulated): Promise<void> {
    if (sim.silent || sim.servers.length === 0) return;
    const since = Date.now();
    // Counters as a running machine's grow: 10% of a vCPU and 1 MB/s of traffic each way since the simulation began.
    const seconds = (performance.now() - this.#began) / 1000;
    const machines: MachineReport[] = sim.servers.map((s) => ({
      serverId: s.id,
      power: s.status === "active" ? "running" : "stopped",
      stats:
        s.status === "active"
          ? {
              cpuTimeNs: seconds * 1e8,
              memoryUsedMb: 1024,
              diskUsedGb: 10,
              netInBytes: seconds * 1e6,
              netOutBytes: seconds * 1e6,
            }
          : null,
    }));
    await this.#timed("report", () => sim.link.report(machines, since).then(() => undefined));
  }

  async #timed(kind: CallKind, call: () => Promise<void>): Promise<void> {
    const at = performance.now();
    let ok = true;
    try {
      await call();
    } catch (err) {
      ok = false;
      if (!this.firstErrors.has(kind)) this.firstErrors.set(kind, String(err));
    }
    this.calls.push({ kind, at, ms: performance.now() - at, ok });
  }
}
