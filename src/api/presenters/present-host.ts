import { imagesOf, inventoryOf } from "../../db/repositories/host-repository.ts";
import { type Amounts, freeAmounts, milliToRatio } from "../../domain/host-capacity.ts";
import type { Host } from "../../services/host-service.ts";

/** A host as the admin API shows it; ratios as numbers (4.0), not the thousandths they are kept in. */
export function presentHost(host: Host) {
  const inventory = inventoryOf(host);
  const ratios: Amounts = {
    vcpus: milliToRatio(inventory.ratioMilli.vcpus),
    memory_mb: milliToRatio(inventory.ratioMilli.memory_mb),
    disk_gb: milliToRatio(inventory.ratioMilli.disk_gb),
  };
  return {
    id: host.id,
    name: host.name,
    location: host.location,
    state: host.effective_state,
    admin_state: host.state,
    capacity: inventory.total,
    reserved: inventory.reserved,
    allocation_ratios: ratios,
    allocated: inventory.allocated,
    free: freeAmounts(inventory),
    server_count: host.server_count,
    last_heartbeat_at: host.last_heartbeat_at,
    agent_version: host.agent_version,
    driver: host.driver,
    images: imagesOf(host),
    has_credential: host.has_credential,
    created_at: host.created_at,
    updated_at: host.updated_at,
  };
}
