import { type Driver, type DriverCall, DriverError } from "../drivers/driver.ts";
import type { ImageStore } from "../store/image-store.ts";
import { fetchDisk } from "./disk-fetch.ts";
import type { ClaimedOperation, Outcome } from "./host-link.ts";
import { copyDiskToStore, restoreDiskFromStore } from "./image-steps.ts";
import { LeaseNotHeld } from "./lease-not-held.ts";

export interface OperationRunnerOptions {
  driver: Driver;
  /** Where snapshots and backups are written and images restored from. */
  store: ImageStore;
  shutdownTimeoutMs: number;
}

/**
 * The driver steps of each kind of operation, with nothing but the claimed operation and the driver: what the
 * server becomes is decided where the outcome is settled. Every step is idempotent, so running an operation
 * again from the start after a crash or a lost lease reaches the same end without doing anything twice.
 */
export class OperationRunner {
  readonly #driver: Driver;
  readonly #store: ImageStore;
  readonly #shutdownTimeoutMs: number;

  constructor(options: OperationRunnerOptions) {
    this.#driver = options.driver;
    this.#store = options.store;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs;
  }

  /**
   * `holdLease` renews the lease at the control plane; a migrate_in starts its machine only right after it said
   * yes (the control plane has not given the migration up, and cannot before that lease runs out).
   */
  async execute(
    op: ClaimedOperation,
    call: DriverCall,
    holdLease: () => Promise<boolean> = async () => true,
  ): Promise<Outcome> {
    const id = String(op.serverId);
    // A delete destroys its server's machine; a clean-up the copy a migration left on its host; and a migrate_in
    // of a server deleted meanwhile discards whatever copy an earlier attempt made on the target.
    if (op.kind === "delete" || op.kind === "cleanup" || (op.kind === "migrate_in" && op.serverDeleted)) {
      await this.#driver.destroy(id, call);
      return {};
    }
    // A server deleted while this operation waited: the delete operation queued behind it does the rest.
    if (op.serverDeleted) return {};
    if (op.unrunnable) throw new DriverError(op.unrunnable.code, op.unrunnable.message, true);
    switch (op.kind) {
      case "create":
      case "rebuild": {
        if (!op.spec)
          throw new DriverError("spec_missing", `the ${op.kind} came without a machine spec`, true);
        // A rebuild replaces the disk: the old machine goes first (an import would replace it anyway).
        if (op.kind === "rebuild") await this.#driver.destroy(id, call);
        if (op.image) await restoreDiskFromStore(this.#driver, this.#store, op, op.spec, call);
        else await this.#driver.create(op.spec, call);
        await this.#driver.start(id, call);
        break;
      }
      case "snapshot":
      case "backup":
        return copyDiskToStore(this.#driver, this.#store, op, call);
      case "start":
        await this.#driver.start(id, call);
        break;
      case "stop":
        await this.#driver.shutdown(id, { timeoutMs: this.#shutdownTimeoutMs }, call);
        break;
      case "reboot":
        await this.#driver.reboot(id, { hard: false }, call);
        break;
      case "suspend":
        await this.#driver.shutdown(id, { timeoutMs: this.#shutdownTimeoutMs }, call);
        return {};
      case "migrate_out": {
        await this.#driver.shutdown(id, { timeoutMs: this.#shutdownTimeoutMs }, call);
        const disk = await this.#driver.exportDisk(id, call);
        return { disk: { size: disk.size, sha256: disk.sha256 } };
      }
      case "migrate_in": {
        if (!op.spec || !op.transfer) {
          throw new DriverError(
            "grant_missing",
            "the migrate_in came without a spec or transfer grant",
            true,
          );
        }
        await this.#driver.importDisk(op.spec, await fetchDisk(op.transfer, call.signal), call);
        if (op.transfer.start) {
          if (!(await holdLease().catch(() => false))) {
            // The server may be restarting on its source: the copy must not run; the next attempt fetches anew.
            await this.#driver.destroy(id, call);
            throw new LeaseNotHeld();
          }
          await this.#driver.start(id, call);
        }
        break;
      }
      case "resize":
        if (!op.spec) throw new DriverError("spec_missing", "the resize came without a machine spec", true);
        await this.#driver.resize(op.spec, call);
        return {};
      default:
        throw new DriverError("unknown_operation", `unknown operation kind "${op.kind}"`, true);
    }
    return { ssh: await this.#driver.endpoint(id, call) };
  }

  /**
   * Fencing: stops a machine started under a lease whose result the control plane did not take, and destroys it
   * when the control plane surely refused that result (a copy of a migration it gave up); otherwise the copy is
   * kept, stopped, for whichever end the control plane recorded (its clean-up destroys it, or it is the server's).
   */
  async fence(op: ClaimedOperation, destroy: boolean, call: DriverCall): Promise<void> {
    const id = String(op.serverId);
    if ((await this.#driver.info(id, call)) === "running") await this.#driver.stop(id, call);
    if (destroy) await this.#driver.destroy(id, call);
  }
}

/**
 * A migrate_in that starts its machine on the target: that machine must not outlive its lease unless the control
 * plane took the result, since once the lease has run out the control plane may restart the server on its source.
 */
export function startsUnderLease(op: ClaimedOperation): boolean {
  return op.kind === "migrate_in" && !op.serverDeleted && op.transfer?.start === true;
}
