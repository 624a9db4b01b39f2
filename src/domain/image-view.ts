import { apiTimestamp } from "./action-view.ts";

// An image as customers see it, in the API and in webhooks' `backup.finished`.

export const IMAGE_TYPES = ["snapshot", "backup"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
export const IMAGE_STATUSES = ["creating", "available", "failed"] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];
/** Whether a copy of a running disk had the guest's filesystems frozen (`filesystem`) or not (`crash`); a stopped disk's copy is `filesystem`. */
export type ImageConsistency = "filesystem" | "crash";

/** What an image shows of itself (an images row has it). */
export interface ImageFacts {
  id: number;
  type: ImageType;
  status: ImageStatus;
  name: string | null;
  server_id: number | null;
  os_id: number;
  disk_gb: number;
  size_bytes: number | null;
  sha256: string | null;
  consistency: ImageConsistency | null;
  created_at: string;
  completed_at: string | null;
}

export function presentImage(image: ImageFacts) {
  return {
    id: image.id,
    type: image.type,
    status: image.status,
    name: image.name,
    server_id: image.server_id,
    os_id: image.os_id,
    disk_gb: image.disk_gb,
    size_bytes: image.size_bytes === null ? null : Number(image.size_bytes),
    sha256: image.sha256,
    consistency: image.consistency,
    created_at: apiTimestamp(image.created_at),
    completed_at: image.completed_at ? apiTimestamp(image.completed_at) : null,
  };
}
