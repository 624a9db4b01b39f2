import type { Logger } from "pino";
import type { Clock } from "../domain/clock.ts";
import type { Driver, DriverCall } from "../drivers/driver.ts";
import { ConsoleSessions } from "../engine/console-sessions.ts";
import type { HttpHostLink, MachineReport } from "../engine/http-host-link.ts";
import { OperationRunner } from "../engine/operation-runner.ts";
import { OperationWorker } from "../engine/operation-worker.ts";
import { PeriodicTask } from "../engine/periodic-task.ts";
import type { ImageStore } from "../store/image-store.ts";
import { ConsoleEndpoint } from "./console-endpoint.ts";
import { DiskTransferServer } from "./disk-transfer-server.ts";

export interface HostAgentOptions {
  link: HttpHostLink;
  driver: Driver;
  /** Where this host writes snapshots and backups and restores images from: one every host reaches. */
  store: ImageStore;
  clock: Clock;
  log: Logger;
  version: string;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  shutdownTimeoutMs: number;
  /** A heartbeat comes every third of it, so one lost beat leaves the host up. */
  downAfterMs: number;
  /** How often the machines' power and usage are reported. */
  reportMs: number;
  /**
   * `host:port` where it serves disks to migrations and serial consoles to the control plane
   * (VPS_AGENT_TRANSFER_ADDRESS); none: it serves neither.
   */
  transferAddress?: string;
  /** Serial consoles: how many at once per machine, and after how long with no byte one is closed. */
  console: { limit: number; idleMs: number };
}

/**
 * A hypervisor host driven from the control plane over HTTP(S): the operation worker claims this host's
 * operations through the link (long poll), a heartbeat reports the driver's inventory, and a report tells the
 * control plane what each of the host's machines is doing. It holds no database credentials.
 */
export class HostAgent {
  readonly worker: OperationWorker;
  readonly #o: HostAgentOptions;
  readonly #heartbeat: PeriodicTask;
  readonly #reports: PeriodicTask;
  readonly #controller = new AbortController();
  readonly #transfers: DiskTransferServer | undefined;
  readonly #consoles: ConsoleEndpoint | undefined;

  constructor(options: HostAgentOptions) {
    this.#o = options;
    const { link, driver, clock, log } = options;
    this.worker = new OperationWorker({
      link,
      runner: new OperationRunner({
        driver,
        store: options.store,
        shutdownTimeoutMs: options.shutdownTimeoutMs,
      }),
      clock,
      log: log.child({ component: "worker" }),
      concurrency: options.concurrency,
      leaseMs: options.leaseMs,
      pollMs: options.pollMs,
      claimWaitMs: 25_000,
    });
    this.#heartbeat = new PeriodicTask(
      "heartbeat",
      Math.max(1, Math.floor(options.downAfterMs / 3)),
      log,
      () => this.beat(),
    );
    this.#reports = new PeriodicTask("power report", options.reportMs, log, () => this.report());
    if (options.transferAddress) {
      const open = driver.openConsole?.bind(driver);
      const consoles = open
        ? new ConsoleEndpoint({
            open,
            log: log.child({ component: "consoles" }),
            sessions: new ConsoleSessions(options.console.limit),
            idleMs: options.console.idleMs,
            spend: (serverId, grant) => link.spendConsoleGrant(serverId, grant),
          })
        : undefined;
      this.#consoles = consoles;
      this.#transfers = new DiskTransferServer({
        address: options.transferAddress,
        driver,
        log: log.child({ component: "transfers" }),
        spend: (serverId, token) => link.spendTransferToken(serverId, token),
        upgrade: consoles && ((req, socket, head) => consoles.upgrade(req, socket, head)),
      });
    }
  }

  /**
   * One heartbeat now (a refusal fails the start); the leases an earlier agent of this host left (killed
   * outright) freed, so its operations resume at once; then the worker and the loops.
   */
  async start(): Promise<{ host_id: number; name: string; state: string }> {
    await this.#transfers?.listen();
    const host = await this.beat();
    const released = await this.#o.link.releaseStale();
    if (released > 0) this.#o.log.info({ released }, "resuming the operations an earlier agent left");
    await this.worker.start();
    this.#heartbeat.start();
    this.#reports.start();
    return host;
  }

  /** Stops claiming, lets running operations finish for `graceMs`, and gives back the leases still held. */
  async stop(graceMs: number): Promise<void> {
    this.#controller.abort();
    await Promise.all([this.worker.stop(graceMs), this.#heartbeat.stop(), this.#reports.stop()]);
    this.#consoles?.close();
    await this.#transfers?.close();
  }

  async beat(): Promise<{ host_id: number; name: string; state: string }> {
    const { driver, version } = this.#o;
    const inventory = await driver.inventory(this.#call());
    return this.#o.link.heartbeat({
      capacity: { vcpus: inventory.vcpus, memory_mb: inventory.memoryMb, disk_gb: inventory.diskGb },
      images: inventory.images,
      agentVersion: version,
      driver: driver.name,
      transferUrl: this.#transfers?.url ?? null,
    });
  }

  /**
   * Observes every machine the driver has and reports them. When the host has just returned from down the
   * control plane reconciles instead, and answers the machines of no server, which are destroyed here.
   */
  async report(): Promise<void> {
    const { driver, link, log } = this.#o;
    const since = Date.now();
    const machines: MachineReport[] = [];
    for (const id of await driver.list(this.#call())) {
      if (!/^[1-9]\d{0,15}$/.test(id) || this.#controller.signal.aborted) continue;
      const power = await driver.info(id, this.#call());
      const stats = power === "running" ? await driver.stats(id, this.#call()) : null;
      machines.push({ serverId: Number(id), power, stats });
    }
    // Observed longer ago than the host is given to be down (the process was frozen, say): the host may have
    // returned meanwhile and must reconcile from what it has now, so this report is dropped.
    if (this.#controller.signal.aborted || Date.now() - since > this.#o.downAfterMs) return;
    const answer = await link.report(machines, since);
    for (const id of answer.destroy) await driver.destroy(String(id), this.#call());
    if (answer.reconciled) {
      log.info(
        { queued: answer.queued, destroyed: answer.destroy.length },
        "host reconciled after it was down",
      );
    }
  }

  #call(): DriverCall {
    return { signal: this.#controller.signal, log: this.#o.log };
  }
}
