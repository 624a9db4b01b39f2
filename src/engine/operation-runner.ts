import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow, ServerRow } from "../db/schema.ts";
import { LIFECYCLE, type OperationEnd } from "../domain/lifecycle.ts";
import type { StoredServerStatus } from "../domain/server-status.ts";
import {
  type Driver,
  type DriverCall,
  DriverError,
  type MachineSpec,
  type SshEndpoint,
} from "../drivers/driver.ts";

/** What finishing an operation changes, committed in one transaction with the operation's own end. */
export interface Settlement {
  status: OperationEnd;
  /** Compare-and-swap of the server's status, from the transitional status to the settled one. */
  swap?: { from: StoredServerStatus; to: StoredServerStatus };
  releaseAddresses?: boolean;
  /** Give back what the server was charged: it never ran. */
  refund?: boolean;
  /** Where the machine's SSH server is reached now that it runs. */
  ssh?: SshEndpoint | null;
}

export interface OperationRunnerOptions {
  repos: Repositories;
  driver: Driver;
  shutdownTimeoutMs: number;
}

/**
 * The driver steps of each kind of operation. Every step is idempotent, so running an operation again
 * from the start after a crash or a lost lease reaches the same end without doing anything twice.
 */
export class OperationRunner {
  readonly #repos: Repositories;
  readonly #driver: Driver;
  readonly #shutdownTimeoutMs: number;

  constructor(options: OperationRunnerOptions) {
    this.#repos = options.repos;
    this.#driver = options.driver;
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs;
  }

  async execute(op: OperationRow, call: DriverCall): Promise<Settlement> {
    const server = await this.#repos.servers.findById(op.server_id);
    const id = String(op.server_id);
    if (op.kind === "delete") {
      await this.#driver.destroy(id, call);
      return { status: "succeeded", releaseAddresses: true };
    }
    // A server deleted while this operation waited: the delete operation queued behind it does the rest.
    if (!server || server.deleted_at !== null) return { status: "cancelled" };
    switch (op.kind) {
      case "create":
        await this.#driver.create(await this.#spec(server), call);
        await this.#driver.start(id, call);
        break;
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
        // The status is `suspended` already; the machine only has to be off.
        await this.#driver.shutdown(id, { timeoutMs: this.#shutdownTimeoutMs }, call);
        return { status: "succeeded" };
      default:
        throw new DriverError("unknown_operation", `unknown operation kind "${op.kind}"`, true);
    }
    return {
      status: "succeeded",
      swap: swapTo(op, "settled"),
      ssh: await this.#sshEndpoint(op.server_id, call),
    };
  }

  /** How an operation that can never succeed leaves its server: in its failure status, without the addresses of a machine that never came up. */
  failure(op: OperationRow): Settlement {
    const create = op.kind === "create";
    return { status: "failed", swap: swapTo(op, "failed"), releaseAddresses: create, refund: create };
  }

  async #sshEndpoint(serverId: number, call: DriverCall): Promise<SshEndpoint | null> {
    const endpoint = await this.#driver.endpoint(String(serverId), call);
    if (endpoint) return endpoint;
    const ipv4 = (await this.#repos.addresses.heldBy(serverId)).find((a) => a.family === 4);
    return ipv4 ? { host: ipv4.address, port: 22 } : null;
  }

  async #spec(server: ServerRow): Promise<MachineSpec> {
    const [plan, os] = await Promise.all([
      this.#repos.catalogue.findPlan(server.plan_id),
      this.#repos.catalogue.findOs(server.os_id),
    ]);
    if (!plan || !os)
      throw new DriverError("catalogue_missing", "the server's plan or OS no longer exists", true);
    // Allocated by the create's own transaction.
    const held = await this.#repos.addresses.heldBy(server.id);
    const ipv4 = held.find((a) => a.family === 4)?.address;
    const ipv6 = held.find((a) => a.family === 6)?.address ?? null;
    if (ipv4 === undefined) {
      throw new DriverError("no_address_available", "the server holds no IPv4 address", true);
    }
    return {
      id: String(server.id),
      hostname: server.hostname ?? server.name,
      vcpus: plan.vcpus,
      memoryMb: plan.memory_mb,
      storageGb: plan.storage_gb,
      image: os.image,
      sshPublicKey: server.ssh_public_key,
      ipv4,
      ipv6,
    };
  }
}

/** The status change the operation's end makes, from its transitional status; none where the table keeps it. */
function swapTo(op: OperationRow, end: "settled" | "failed"): Settlement["swap"] {
  const lifecycle = LIFECYCLE[op.kind];
  const to = lifecycle[end];
  return to === lifecycle.transitional ? undefined : { from: lifecycle.transitional, to };
}
