import type { Static } from "@sinclair/typebox";
import type { ClaimedOperation } from "../../engine/host-link.ts";
import type { ClaimedOperationSchema } from "../schemas/agent.ts";

/** A claimed operation as the agent API carries it: the host link's data in the API's snake_case. */
export function presentClaimedOperation(op: ClaimedOperation): Static<typeof ClaimedOperationSchema> {
  const { spec } = op;
  return {
    id: op.id,
    kind: op.kind,
    server_id: op.serverId,
    attempt: op.attempt,
    max_attempts: op.maxAttempts,
    owner: op.owner,
    lease_expires_at: op.leaseExpiresAt,
    server_deleted: op.serverDeleted,
    spec: spec && {
      id: spec.id,
      hostname: spec.hostname,
      vcpus: spec.vcpus,
      memory_mb: spec.memoryMb,
      storage_gb: spec.storageGb,
      image: spec.image,
      ssh_public_key: spec.sshPublicKey,
      ipv4: spec.ipv4,
      ipv6: spec.ipv6,
    },
    unrunnable: op.unrunnable,
    transfer: op.transfer ?? null,
    image: op.image ?? null,
  };
}
