import type { Repositories } from "../db/repositories/repositories.ts";
import type {
  ServerChanges,
  ServerDetails,
  ServerFilter,
  ServerSummary,
} from "../db/repositories/server-repository.ts";
import { type BackupWindow, nextBackupAt } from "../domain/backup-schedule.ts";
import { hourAfter } from "../domain/billing.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import {
  type FieldErrors,
  InsufficientCredit,
  InvalidInput,
  NameNotConfirmed,
  NoAddressAvailable,
  NoCapacity,
  ServerNotFound,
} from "../domain/errors.ts";
import { freshSince, type PlacementPolicy } from "../domain/host-placement.ts";
import { type PowerAction, powerTransition, rejectPowerAction } from "../domain/lifecycle.ts";
import { formatMoney } from "../domain/money.ts";
import { hostnameProblem, serverNameProblem } from "../domain/names.ts";
import type { ServerStatus } from "../domain/server-status.ts";
import type { ChangeFeed } from "../engine/change-feed.ts";
import { chargeFirstHour } from "../engine/charge-first-hour.ts";
import type { WorkNotifier } from "../engine/work-notifier.ts";
import { withActionInFlight } from "./action-in-flight.ts";
import { MAX_WAIT_SECONDS } from "./action-service.ts";
import type { CatalogueMemory } from "./catalogue-memory.ts";
import type { IdempotencyClaim } from "./idempotency-service.ts";
import { checkRestorable } from "./image-service.ts";
import type { ServerAction } from "./server-action.ts";

export interface CreateServerInput {
  name: string;
  plan_id: number;
  os_id: number;
  location: string;
  hostname?: string;
  ssh_key_id?: number;
  backups_enabled?: boolean;
  /** Restore this image of the account's (its OS must be `os_id`) instead of a fresh OS. */
  image_id?: number;
}

export interface UpdateServerInput {
  name?: string;
  hostname?: string;
  backups_enabled?: boolean;
}

export interface ListQuery {
  status?: ServerStatus;
  location?: string;
  page: number;
  pageSize: number;
}

export interface ServerServiceOptions {
  repos: Repositories;
  clock: Clock;
  notifier: WorkNotifier;
  minCreditHours: number;
  maxAttempts: number;
  changes: ChangeFeed;
  catalogue: CatalogueMemory;
  /** How the hosts that fit a create are weighed. */
  placement: PlacementPolicy;
  /** A host not heard from for this long takes no new server. */
  hostDownAfterMs: number;
  /** Where in the day servers with backups on are backed up. */
  backupWindow: BackupWindow;
  /** The backup surcharge, percent of the plan's hourly price. */
  backupPricePercent: number;
  /** A charge that takes the balance below this sends webhooks' `balance.low`. */
  lowBalanceMinor: number;
}

export class ServerService {
  readonly #o: ServerServiceOptions;
  constructor(options: ServerServiceOptions) {
    this.#o = options;
  }

  async list(accountId: number, query: ListQuery): Promise<{ count: number; servers: ServerSummary[] }> {
    const filter: ServerFilter = { status: query.status };
    if (query.location !== undefined) {
      const location = await this.#o.catalogue.locationByCode(query.location);
      if (!location) throw InvalidInput.field("location", `Unknown location "${query.location}".`);
      filter.locationId = location.id;
    }
    const offset = (query.page - 1) * query.pageSize;
    const { count, rows } = await this.#o.repos.servers.list(accountId, filter, query.pageSize, offset);
    const { catalogue } = this.#o;
    await catalogue.learn(rows);
    const servers = rows.map((row): ServerSummary => {
      const plan = catalogue.plan(row.plan_id);
      const os = catalogue.os(row.os_id);
      return {
        id: row.id,
        name: row.name,
        hostname: row.hostname,
        status: row.status,
        created_at: row.created_at,
        updated_at: row.updated_at,
        ipv4: row.ipv4,
        location: catalogue.location(row.location_id).code,
        plan_id: plan.id,
        plan_name: plan.name,
        vcpus: plan.vcpus,
        memory_mb: plan.memory_mb,
        storage_gb: plan.storage_gb,
        os_id: os.id,
        os_name: os.name,
      };
    });
    return { count, servers };
  }

  /** The server; with `until`, once it has that status or `waitSeconds` are up (woken by the engine, not polled). */
  async get(
    accountId: number,
    id: number,
    until?: { status: ServerStatus; waitSeconds: number },
  ): Promise<ServerDetails> {
    const deadline = Date.now() + Math.min(until?.waitSeconds ?? 0, MAX_WAIT_SECONDS) * 1000;
    for (;;) {
      // Listening before the read: an end announced while the server is read wakes the wait at once.
      const change = until ? this.#o.changes.watch(id) : undefined;
      try {
        const server = await this.#o.repos.servers.findDetails(accountId, id);
        if (!server) throw new ServerNotFound();
        if (!change || !until || server.status === until.status || Date.now() >= deadline) return server;
        await change.next(Math.min(deadline - Date.now(), 5000));
      } finally {
        change?.stop();
      }
    }
  }

  async create(
    accountId: number,
    input: CreateServerInput,
    claim?: IdempotencyClaim,
  ): Promise<{ server: ServerDetails; actionId: number }> {
    const { repos, clock } = this.#o;
    const errors: FieldErrors = {};
    const problem = (field: string, message: string | null) => {
      if (message) errors[field] = [message];
    };
    problem("name", serverNameProblem(input.name));
    if (input.hostname !== undefined) problem("hostname", hostnameProblem(input.hostname));
    const { catalogue } = this.#o;
    const [plan, os, location, sshKey, image] = await Promise.all([
      catalogue.findPlan(input.plan_id),
      catalogue.findOs(input.os_id),
      catalogue.locationByCode(input.location),
      input.ssh_key_id === undefined ? undefined : repos.sshKeys.find(accountId, input.ssh_key_id),
      input.image_id === undefined ? undefined : repos.images.findForAccount(accountId, input.image_id),
    ]);
    if (!plan) problem("plan_id", `Unknown plan ${input.plan_id}; see GET /api/v1/plans/.`);
    if (!os) problem("os_id", `Unknown operating system ${input.os_id}; see GET /api/v1/os/.`);
    if (!location) problem("location", `Unknown location "${input.location}"; see GET /api/v1/locations/.`);
    if (input.ssh_key_id !== undefined && !sshKey) {
      problem("ssh_key_id", `No SSH key ${input.ssh_key_id} in this account; see GET /api/v1/ssh-keys/.`);
    }
    if (plan && location && !(await repos.catalogue.isPlanOffered(plan.id, location.id))) {
      problem("plan_id", `Plan ${plan.id} (${plan.name}) is not offered in ${location.code}.`);
    }
    if (input.image_id !== undefined && !image) {
      problem("image_id", `No image ${input.image_id} in this account; see GET /api/v1/images/.`);
    }
    // The contract's os_id stays required: with an image it must name the image's OS, whose base image it needs.
    if (image && image.os_id !== input.os_id) {
      problem("os_id", `Image ${image.id} is of operating system ${image.os_id}; give that os_id with it.`);
    }
    if (Object.keys(errors).length > 0 || !plan || !os || !location) throw new InvalidInput(errors);
    if (image) checkRestorable(image, plan);

    const now = isoAt(clock);
    const requested = { vcpus: plan.vcpus, memory_mb: plan.memory_mb, disk_gb: plan.storage_gb };
    const since = freshSince(clock.now(), this.#o.hostDownAfterMs);
    const id = await repos.transaction(async (tx) => {
      // The balance is read inside the transaction that creates the server, so it is the one that counts.
      const account = await tx.accounts.findById(accountId);
      const required = plan.price_hourly_minor * this.#o.minCreditHours;
      if (!account || account.balance_minor <= 0 || account.balance_minor < required) {
        throw new InsufficientCredit(
          `Creating a ${plan.name} server needs a balance of at least ${formatMoney(Math.max(required, 1))} ` +
            `(${this.#o.minCreditHours} h at the plan's hourly price); the balance is ${formatMoney(account?.balance_minor ?? 0)}.`,
        );
      }
      // Three rows are contended: the account's counts row (by status and location, written by the servers
      // INSERT's trigger), the host's and the account's. They are taken last, in that order (the order an
      // operation's end takes them too), each held to the commit; before them, what no one else writes.
      const serverId = await tx.servers.reserveId();
      // Placement's candidates, read now; the claim below re-checks each as it writes.
      const candidates = await tx.hostAllocations.firstCandidates(
        location.id,
        requested,
        this.#o.placement,
        since,
        os.image,
      );
      if (candidates.length === 0) throw new NoCapacity(location.code);
      // The addresses are the server's from its first moment: with none free, nothing is written and nothing
      // charged. IPv6 only where the location has a pool of it.
      if ((await tx.addresses.allocateForNewServer(serverId, location.id, 4, now)) === null) {
        throw new NoAddressAvailable(location.code);
      }
      await tx.addresses.allocateForNewServer(serverId, location.id, 6, now);
      // The first hour is paid now (with backups, their surcharge); the billing cycle charges each next one when it begins.
      const payFirstHour = await chargeFirstHour(tx, {
        serverId,
        accountId,
        currency: account.currency,
        planId: plan.id,
        priceHourlyMinor: plan.price_hourly_minor,
        priceMonthlyMinor: plan.price_monthly_minor,
        backupsEnabled: input.backups_enabled === true,
        backupPricePercent: this.#o.backupPricePercent,
        // The first hour accrues its allowance; a machine not yet made has no traffic to settle.
        bandwidthGb: plan.bandwidth_gb,
        bandwidthPriceMinorPerGb: 0,
        trafficBytes: null,
        hourStart: now,
        lowBalanceMinor: this.#o.lowBalanceMinor,
        now,
      });
      const actionId = await tx.operations.insert({
        serverId,
        accountId,
        kind: "create",
        maxAttempts: this.#o.maxAttempts,
        now,
        imageId: image?.id,
      });
      if (claim) await tx.idempotency.attach(claim.accountId, claim.key, serverId, actionId);
      await tx.servers.insert({
        id: serverId,
        account_id: accountId,
        name: input.name,
        hostname: input.hostname ?? null,
        status: "provisioning",
        plan_id: plan.id,
        os_id: os.id,
        location_id: location.id,
        ssh_key_id: sshKey?.id ?? null,
        ssh_public_key: sshKey?.public_key ?? null,
        backups_enabled: input.backups_enabled ? 1 : 0,
        backup_next_at: input.backups_enabled ? nextBackupAt(serverId, this.#o.backupWindow, now) : null,
        created_at: now,
        updated_at: now,
        deleted_at: null,
        billed_until: hourAfter(now),
      });
      // Placement: a host of the location with the OS's image and room for the plan, claimed by a conditional
      // UPDATE that re-checks the room as it writes; with none, nothing is written and nothing charged.
      const hostId = await tx.hostAllocations.placeNewServer(
        serverId,
        location.id,
        requested,
        this.#o.placement,
        since,
        now,
        os.image,
        candidates,
      );
      if (hostId === undefined) throw new NoCapacity(location.code);
      await payFirstHour();
      return { serverId, actionId };
    });
    this.#o.notifier.wake();
    return { server: await this.get(accountId, id.serverId), actionId: id.actionId };
  }

  async update(accountId: number, id: number, input: UpdateServerInput): Promise<ServerDetails> {
    const errors: FieldErrors = {};
    if (input.name !== undefined) {
      const problem = serverNameProblem(input.name);
      if (problem) errors.name = [problem];
    }
    if (input.hostname !== undefined) {
      const problem = hostnameProblem(input.hostname);
      if (problem) errors.hostname = [problem];
    }
    if (Object.keys(errors).length > 0) throw new InvalidInput(errors);
    const changes: ServerChanges = {};
    if (input.name !== undefined) changes.name = input.name;
    if (input.hostname !== undefined) changes.hostname = input.hostname;
    if (input.backups_enabled !== undefined) changes.backups_enabled = input.backups_enabled ? 1 : 0;
    if (Object.keys(changes).length === 0) return this.get(accountId, id);
    const now = isoAt(this.#o.clock);
    await this.#o.repos.transaction(async (tx) => {
      const server = await tx.servers.findById(id);
      if (!server || server.account_id !== accountId || server.deleted_at !== null)
        throw new ServerNotFound();
      const turned = changes.backups_enabled;
      if (turned !== undefined && turned !== server.backups_enabled) {
        // On: the first backup at the server's next slot. Off: as Hetzner does, its backups are deleted with it
        // (their bytes removed by the backup scheduler's sweep); snapshots are the account's and stay.
        changes.backup_next_at = turned ? nextBackupAt(id, this.#o.backupWindow, now) : null;
        if (!turned) await tx.images.deleteBackupsOf(id, now);
      }
      await tx.servers.update(accountId, id, changes, now);
    });
    return this.get(accountId, id);
  }

  /**
   * Accepted in any state: the server leaves the API now; its machine is destroyed in the background. With
   * `confirmName` (the console's typed confirmation) only when that is the server's exact name, read in the
   * transaction that deletes it.
   */
  async delete(accountId: number, id: number, confirmName?: string): Promise<{ actionId: number }> {
    const now = isoAt(this.#o.clock);
    const actionId = await this.#o.repos.transaction(async (tx) => {
      if (confirmName !== undefined) {
        const server = await tx.servers.findById(id);
        if (!server || server.account_id !== accountId || server.deleted_at !== null)
          throw new ServerNotFound();
        if (server.name !== confirmName) throw new NameNotConfirmed(server.name);
      }
      if (!(await tx.servers.markDeleted(accountId, id, now))) throw new ServerNotFound();
      // Its backups go with it; its snapshots are the account's and outlive it.
      await tx.images.deleteBackupsOf(id, now);
      return tx.operations.insert({
        serverId: id,
        accountId,
        kind: "delete",
        maxAttempts: this.#o.maxAttempts,
        now,
      });
    });
    this.#o.notifier.wake();
    return { actionId };
  }

  /** Start, stop or reboot: a compare-and-swap on the status and the operation row, in one transaction. */
  async power(
    accountId: number,
    id: number,
    action: PowerAction,
    claim?: IdempotencyClaim,
  ): Promise<ServerAction> {
    const transition = powerTransition(action);
    const now = isoAt(this.#o.clock);
    const accepted = await this.#o.repos.transaction(async (tx) => {
      if (await tx.servers.swapStatus(id, transition.from, transition.to, now, { accountId })) {
        const actionId = await tx.operations.insert({
          serverId: id,
          accountId,
          kind: action,
          maxAttempts: this.#o.maxAttempts,
          now,
        });
        if (claim) await tx.idempotency.attach(claim.accountId, claim.key, id, actionId);
        const server = await tx.servers.findById(id);
        return { name: server?.name ?? "", actionId };
      }
      const server = await tx.servers.findById(id);
      if (!server || server.account_id !== accountId || server.deleted_at !== null)
        throw new ServerNotFound();
      throw await withActionInFlight(tx, id, rejectPowerAction(action, server.status));
    });
    this.#o.notifier.wake();
    return {
      message: transition.message,
      actionId: accepted.actionId,
      server: { id, name: accepted.name, status: transition.to },
    };
  }
}
