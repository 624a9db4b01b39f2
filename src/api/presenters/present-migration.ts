import type { MigrationRow } from "../../db/schema.ts";
import { apiTimestamp } from "./present-server.ts";

export function presentMigration(m: MigrationRow) {
  return {
    id: m.id,
    server_id: m.server_id,
    source_host_id: m.source_host_id,
    target_host_id: m.target_host_id,
    state: m.state,
    was_running: m.was_running === 1,
    disk_bytes: m.disk_bytes === null ? null : Number(m.disk_bytes),
    checksum: m.checksum,
    error: m.error_code === null ? null : { code: m.error_code, message: m.error_message ?? "" },
    created_at: apiTimestamp(m.created_at),
    finished_at: m.finished_at ? apiTimestamp(m.finished_at) : null,
  };
}
