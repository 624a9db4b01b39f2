import type { ImageRow } from "../db/schema.ts";
import { apiTimestamp } from "./action-view.ts";

// An image as customers see it, in the API and in webhooks' `backup.finished`.

export function presentImage(image: ImageRow) {
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
