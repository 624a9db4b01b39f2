import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ServerRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { nextUsage } from "../domain/usage.ts";
import type { Driver, DriverCall } from "../drivers/driver.ts";
import { PeriodicTask } from "./periodic-task.ts";

export interface PowerSyncOptions {
  repos: Repositories;
  driver: Driver;
  clock: Clock;
  log: Logger;
  intervalMs: number;
  /** The hosts whose machines this process's driver sees (its embedded hosts); another host's are not its to judge. */
  hosts: () => readonly number[];
}

/**
 * Brings the database in line with what the hypervisor observes, for servers with no operation in flight
 * (a VM that died is `stopped`, not `active`), and samples each server's resource usage.
 */
export class PowerSync {
  readonly #o: PowerSyncOptions;
  readonly #periodic: PeriodicTask;
  /** Aborts a driver call in progress when the sync stops. */
  readonly #controller = new AbortController();

  constructor(options: PowerSyncOptions) {
    this.#o = options;
    this.#periodic = new PeriodicTask("power sync", options.intervalMs, options.log, () => this.syncOnce());
  }

  start(): void {
    this.#periodic.start();
  }

  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#periodic.stop();
  }

  async syncOnce(): Promise<void> {
    const servers = await this.#o.repos.servers.listSettled(["active", "stopped"], 10_000, this.#o.hosts());
    for (const server of servers) {
      if (this.#controller.signal.aborted) return;
      await this.#syncServer(server);
    }
  }

  async #syncServer(server: ServerRow): Promise<void> {
    const call = this.#call();
    const observed = await this.#o.driver.info(String(server.id), call);
    const now = isoAt(this.#o.clock);
    let status = server.status;
    if (server.status === "active" && observed !== "running") {
      // A missing machine cannot be started again: that server needs an operator, not a start button.
      const to = observed === "missing" ? "error" : "stopped";
      if (
        await this.#o.repos.servers.swapStatus(server.id, "active", to, now, {
          unchangedSince: server.updated_at,
        })
      ) {
        this.#o.log.warn(
          { server: server.id, observed, status: to },
          "machine is not running; status corrected",
        );
        status = to;
      }
    } else if (server.status === "stopped" && observed === "running") {
      if (
        await this.#o.repos.servers.swapStatus(server.id, "stopped", "active", now, {
          unchangedSince: server.updated_at,
        })
      ) {
        this.#o.log.warn({ server: server.id, observed }, "machine is running; status corrected");
        status = "active";
      }
    }
    await this.sample(server, status === "active");
  }

  /** Records the server's usage now: counters of a running machine, zeros (and this month's bandwidth) otherwise. */
  async sample(server: Pick<ServerRow, "id" | "plan_id">, running: boolean): Promise<void> {
    const [plan, previous] = await Promise.all([
      this.#o.repos.catalogue.findPlan(server.plan_id),
      this.#o.repos.usage.find(server.id),
    ]);
    if (!plan) return;
    const stats = running ? await this.#o.driver.stats(String(server.id), this.#call()) : null;
    const now = isoAt(this.#o.clock);
    const usage = nextUsage(
      previous && {
        period: previous.period,
        bandwidthBytes: Number(previous.bandwidth_bytes),
        lastCpuNs: Number(previous.last_cpu_ns),
        lastNetBytes: Number(previous.last_net_bytes),
        sampledAt: previous.sampled_at,
        diskUsed: previous.disk_used,
      },
      stats,
      { vcpus: plan.vcpus, memoryMb: plan.memory_mb, storageGb: plan.storage_gb },
      now,
    );
    await this.#o.repos.usage.save({
      server_id: server.id,
      cpu_percent: usage.cpuPercent,
      memory_used: usage.memoryUsed,
      disk_used: usage.diskUsed,
      period: usage.period,
      bandwidth_bytes: usage.bandwidthBytes,
      last_cpu_ns: usage.lastCpuNs,
      last_net_bytes: usage.lastNetBytes,
      sampled_at: usage.sampledAt,
    });
  }

  #call(): DriverCall {
    return { signal: this.#controller.signal, log: this.#o.log };
  }
}
