import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { embeddedHostName, freshSince } from "../domain/host-placement.ts";
import type { Driver } from "../drivers/driver.ts";
import { PeriodicTask } from "./periodic-task.ts";

export interface EmbeddedHostsOptions {
  repos: Repositories;
  driver: Driver;
  clock: Clock;
  log: Logger;
  /** VPS_HOST_DOWN_AFTER_MS: a heartbeat comes every third of it, so one lost beat leaves the hosts up. */
  downAfterMs: number;
  /** Reported as the hosts' agent version. */
  version: string;
  /** Names the qemu hosts of this machine; the sim hosts are named after the driver alone. */
  machineName?: string;
  /** Called after the beat that brings back a host that was down (not a new one): it reconciles. */
  onReturn?: (hostId: number) => Promise<void>;
}

/**
 * The hosts a control-plane process drives in-process (roles `all` and `worker`): one per location, registered
 * by name on the first beat (no join token: the process reaches the database itself) and kept up by a
 * heartbeat that reports the driver's inventory. With the sim driver the hosts (`sim-<code>`) are shared by
 * every process on the database; with qemu each machine has its own (`<machine name>-<code>`). A location
 * added later gets its host at the next beat. A host that is new adopts its location's servers made before
 * placement, so an upgraded laptop keeps working.
 */
export class EmbeddedHosts {
  readonly #o: EmbeddedHostsOptions;
  readonly #task: PeriodicTask;
  #ids: readonly number[] = [];

  constructor(options: EmbeddedHostsOptions) {
    this.#o = options;
    this.#task = new PeriodicTask(
      "embedded hosts' heartbeat",
      Math.max(1, Math.floor(options.downAfterMs / 3)),
      options.log,
      () => this.beat(),
    );
  }

  /** One beat now (a failure fails the boot), then one every third of the down threshold. */
  async start(): Promise<void> {
    await this.beat();
    this.#task.start();
  }

  stop(): Promise<void> {
    return this.#task.stop();
  }

  /** The hosts this process drives, as of the last beat: the only ones whose operations it claims. */
  get ids(): readonly number[] {
    return this.#ids;
  }

  /** Registers the hosts that are missing and records a heartbeat of each, with the driver's inventory. */
  async beat(): Promise<void> {
    const { repos, driver, clock, log, version } = this.#o;
    const inventory = await driver.inventory({ signal: AbortSignal.timeout(60_000), log });
    const capacity = { vcpus: inventory.vcpus, memory_mb: inventory.memoryMb, disk_gb: inventory.diskGb };
    const machine = this.#o.machineName ?? hostname();
    const ids: number[] = [];
    for (const location of await repos.catalogue.listLocations()) {
      const name = embeddedHostName(driver.name, machine, location.code);
      const returned = await repos.transaction(async (tx) => {
        const now = isoAt(clock);
        const created = await tx.hosts.createEmbedded(name, location.id, now);
        const host = created ?? (await tx.hosts.findByName(name));
        if (!host || host.location_id !== location.id) {
          log.warn({ host: name, location: location.code }, "a host of another location has this name");
          return undefined;
        }
        await tx.hosts.recordReport(host.id, capacity, version, driver.name, now, inventory.images);
        ids.push(host.id);
        if (!created) {
          const since = freshSince(clock.now(), this.#o.downAfterMs);
          const wasDown = host.last_heartbeat_at === null || host.last_heartbeat_at < since;
          return wasDown ? host.id : undefined;
        }
        const adopted = await tx.hostAllocations.adoptUnplaced(host.id, location.id, now);
        log.info({ host: name, location: location.code, adopted }, "embedded host registered");
        return undefined;
      });
      if (returned !== undefined && this.#o.onReturn) {
        log.info({ host: name }, "host is back after it was down; reconciling");
        // The beat stands whatever becomes of the reconciliation: a failure is logged, not a failed beat.
        await this.#o
          .onReturn(returned)
          .catch((err) => log.error({ err, host: name }, "reconciliation failed"));
      }
    }
    this.#ids = ids;
  }
}
