import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ServerRow } from "../db/schema.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver, DriverCall, MachineStats } from "../drivers/driver.ts";
import { PeriodicTask } from "./periodic-task.ts";
import { correctStatus, recordUsage, recordUsages } from "./power-observation.ts";

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
    const { repos, driver, clock, log } = this.#o;
    const servers = await repos.servers.listSettled(["active", "stopped"], 10_000, this.#o.hosts());
    const samples: { server: ServerRow; stats: MachineStats | null }[] = [];
    for (const server of servers) {
      if (this.#controller.signal.aborted) break;
      const observed = await driver.info(String(server.id), this.#call());
      const status = await correctStatus(repos, clock, log, server, observed);
      const stats = status === "active" ? await driver.stats(String(server.id), this.#call()) : null;
      samples.push({ server, stats });
    }
    // Every server's usage in one read and one write, as for an agent's report.
    await recordUsages(repos, clock, samples);
  }

  /** Records the server's usage now: counters of a running machine, zeros (and this month's bandwidth) otherwise. */
  async sample(server: Pick<ServerRow, "id" | "plan_id">, running: boolean): Promise<void> {
    const stats = running ? await this.#o.driver.stats(String(server.id), this.#call()) : null;
    await recordUsage(this.#o.repos, this.#o.clock, server, stats);
  }

  #call(): DriverCall {
    return { signal: this.#controller.signal, log: this.#o.log };
  }
}
