import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow, OsRow, PlanRow, ServerRow } from "../db/schema.ts";
import type { MachineSpec } from "../drivers/driver.ts";
import type { ClaimedOperation, OperationError, TransferGrant } from "./host-link.ts";
import { transferGrant } from "./migration-transfer-grant.ts";

/**
 * A freshly leased batch as the host sees it: each operation with its lease, whether its server was deleted
 * meanwhile, for a create the machine spec, and for a migrate_in the spec and a fresh transfer grant. Reads the batch's servers in one query and the creates'
 * addresses in one more, whatever the batch's size; plans and OS once each.
 */
export async function claimedOperations(
  repos: Repositories,
  rows: readonly OperationRow[],
): Promise<ClaimedOperation[]> {
  if (rows.length === 0) return [];
  const servers = new Map(
    (await repos.servers.findByIds(rows.map((r) => r.server_id))).map((s) => [s.id, s]),
  );
  const live = (row: OperationRow) => {
    const server = servers.get(row.server_id);
    return server && server.deleted_at === null ? server : undefined;
  };
  // A resize's spec is the machine with its new plan.
  const defines = (row: OperationRow) =>
    row.kind === "create" || row.kind === "migrate_in" || row.kind === "resize";
  const creates = rows.filter((r) => defines(r) && live(r));
  const held = await repos.addresses.heldByEach(creates.map((r) => r.server_id));
  const plans = memo((id: number) => repos.catalogue.findPlan(id));
  const oses = memo((id: number) => repos.catalogue.findOs(id));

  return Promise.all(
    rows.map(async (row): Promise<ClaimedOperation> => {
      const server = live(row);
      let spec: MachineSpec | null = null;
      let unrunnable: OperationError | null = null;
      let transfer: TransferGrant | null = null;
      if (defines(row) && server) {
        const built = specOf(
          server,
          await plans(row.kind === "resize" ? (row.plan_id ?? server.plan_id) : server.plan_id),
          await oses(server.os_id),
          held.filter((a) => a.server_id === server.id),
        );
        if ("code" in built) unrunnable = built;
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
      };
    }),
  );
}

function specOf(
  server: ServerRow,
  plan: PlanRow | undefined,
  os: OsRow | undefined,
  held: readonly { family: number; address: string }[],
): MachineSpec | OperationError {
  if (!plan || !os) {
    return { code: "catalogue_missing", message: "the server's plan or OS no longer exists" };
  }
  // Allocated by the create's own transaction.
  const ipv4 = held.find((a) => a.family === 4)?.address;
  const ipv6 = held.find((a) => a.family === 6)?.address ?? null;
  if (ipv4 === undefined)
    return { code: "no_address_available", message: "the server holds no IPv4 address" };
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
