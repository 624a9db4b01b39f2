import { randomUUID } from "node:crypto";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ImageRow, ImageType, ServerRow } from "../db/schema.ts";

export interface ImageCopyRequest {
  server: Pick<ServerRow, "id" | "account_id" | "os_id" | "plan_id">;
  type: ImageType;
  name: string | null;
  maxAttempts: number;
  now: string;
}

/**
 * Queues a copy of the server's disk as a new image, in the caller's transaction: the image, `creating`, and the
 * snapshot or backup operation that makes it. Its store key is unique and never reused, so an attempt that wrote
 * part of it and a later one cannot mix.
 */
export async function queueImageCopy(
  tx: Repositories,
  request: ImageCopyRequest,
): Promise<{ image: ImageRow; actionId: number }> {
  const { server, type, now } = request;
  // The disk size a restore needs: the server's plan's.
  const plan = await tx.catalogue.findPlan(server.plan_id);
  const image = await tx.images.insert({
    account_id: server.account_id,
    server_id: server.id,
    type,
    status: "creating",
    name: request.name,
    os_id: server.os_id,
    disk_gb: plan?.storage_gb ?? 0,
    store_key: `accounts/${server.account_id}/${type}s/${randomUUID()}`,
    created_at: now,
  });
  const actionId = await tx.operations.insert({
    serverId: server.id,
    accountId: server.account_id,
    kind: type,
    maxAttempts: request.maxAttempts,
    now,
    imageId: image.id,
  });
  await tx.images.setOperation(image.id, actionId);
  return { image: { ...image, operation_id: actionId }, actionId };
}
