import type { ClaimedServer } from "../db/repositories/operation-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ImageRow, OperationRow, OsRow, PlanRow } from "../db/schema.ts";
import type { MachineSpec } from "../drivers/driver.ts";
import type { ClaimedOperation, ImageRef, OperationError, TransferGrant } from "./host-link.ts";
import { transferGrant } from "./migration-transfer-grant.ts";

/** Plans and operating systems by id: a process's memory of them (catalogue rows never change) or the database. */
export interface CatalogueLookup {
  findPlan(id: number): Promise<PlanRow | undefined>;
  findOs(id: number): Promise<OsRow | undefined>;
}

/**
 * A freshly leased batch as the host sees it: each operation with its lease, whether its server was deleted
 * meanwhile, for a create or rebuild the machine spec (and the image it restores, if any), for a snapshot or
 * backup the image it writes, and for a migrate_in the spec and a fresh transfer grant. The batch's servers
 * with their addresses come with the claim (`claimWithServers`); plans and OS from `catalogue`.
 */
export async function claimedOperations(
  repos: Repositories,
  claimed: { operations: readonly OperationRow[]; servers: readonly ClaimedServer[] },
  catalogue: CatalogueLookup = repos.catalogue,
): Promise<ClaimedOperation[]> {
  const rows = claimed.operations;
  if (rows.length === 0) return [];
  const servers = new Map(claimed.servers.map((s) => [s.id, s]));
  const live = (row: OperationRow) => {
    const server = servers.get(row.server_id);
    return server && server.deleted_at === null ? server : undefined;
  };
  // A restore's or rebuild's spec is the machine to define; a resize's the machine with its new plan.
  const defines = (row: OperationRow) =>
    row.kind === "create" || row.kind === "migrate_in" || row.kind === "rebuild" || row.kind === "resize";
  const plans = memo((id: number) => catalogue.findPlan(id));
  const oses = memo((id: number) => catalogue.findOs(id));
  const images = memo((id: number) => repos.images.findById(id));

  return Promise.all(
    rows.map(async (row): Promise<ClaimedOperation> => {
      const server = live(row);
      let spec: MachineSpec | null = null;
      let unrunnable: OperationError | null = null;
      let transfer: TransferGrant | null = null;
      let image: ImageRef | null = null;
      const used = row.image_id === null ? undefined : await images(row.image_id);
      if (used && (row.kind === "snapshot" || row.kind === "backup")) {
        image = { id: used.id, key: used.store_key, size: null, sha256: null };
      }
      if (defines(row) && server) {
        // A disk restored from an image is layered on the image's OS; a rebuild from an OS names it.
        let osId = row.kind === "rebuild" && row.os_id !== null ? row.os_id : server.os_id;
        if (row.image_id !== null && row.kind !== "migrate_in") {
          const restorable = restorableOf(used);
          if ("code" in restorable) unrunnable = restorable;
          else {
            image = restorable;
            osId = used?.os_id ?? osId;
          }
        }
        const built = specOf(
          server,
          await plans(row.kind === "resize" ? (row.plan_id ?? server.plan_id) : server.plan_id),
          await oses(osId),
        );
        if ("code" in built) unrunnable ??= built;
        else spec = built;
      }
      if (row.kind === "migrate_in" && server && !unrunnable) {
        const granted = await transferGrant(repos, server.id);
        if ("code" in granted) unrunnable = granted;
        else transfer = granted;
      }
      return {
        id: row.id,
        kind: row.kind,
        serverId: row.server_id,
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
        owner: row.lease_owner ?? "",
        leaseExpiresAt: row.lease_expires_at ?? "",
        serverDeleted: server === undefined,
        spec,
        unrunnable,
        transfer,
        image,
      };
    }),
  );
}

/** An image a create or rebuild restores: complete, and not deleted since the request. */
function restorableOf(image: ImageRow | undefined): ImageRef | OperationError {
  if (!image || image.deleted_at !== null) {
    return { code: "image_not_found", message: "the image to restore was deleted" };
  }
  if (image.status !== "available" || image.size_bytes === null || image.sha256 === null) {
    return { code: "image_not_available", message: `image ${image.id} is ${image.status}` };
  }
  return { id: image.id, key: image.store_key, size: Number(image.size_bytes), sha256: image.sha256 };
}

function specOf(
  server: ClaimedServer,
  plan: PlanRow | undefined,
  os: OsRow | undefined,
): MachineSpec | OperationError {
  if (!plan || !os) {
    return { code: "catalogue_missing", message: "the server's plan or OS no longer exists" };
  }
  // Allocated by the create's own transaction.
  const { ipv4, ipv6 } = server;
  if (ipv4 === null) return { code: "no_address_available", message: "the server holds no IPv4 address" };
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

/** One read per distinct id within a batch. */
function memo<T>(read: (id: number) => Promise<T>): (id: number) => Promise<T> {
  const seen = new Map<number, Promise<T>>();
  return (id) => {
    let found = seen.get(id);
    if (!found) {
      found = read(id);
      seen.set(id, found);
    }
    return found;
  };
}
