import type { ServerDetails, ServerSummary } from "../../db/repositories/server-repository.ts";
import { apiTimestamp } from "../../domain/action-view.ts";
import { bytesToGb } from "../../domain/usage.ts";

export { apiTimestamp };

/** Addresses are shown once the server has been provisioned. */
function shownAddress(server: Pick<ServerSummary, "status">, address: string | null): string | null {
  return server.status === "provisioning" ? null : address;
}

export function presentServerSummary(server: ServerSummary) {
  return {
    id: server.id,
    name: server.name,
    hostname: server.hostname,
    status: server.status,
    ip_address: shownAddress(server, server.ipv4),
    location: server.location,
    plan: {
      id: server.plan_id,
      name: server.plan_name,
      vcpus: server.vcpus,
      memory: server.memory_mb,
      storage: server.storage_gb,
    },
    os: { id: server.os_id, name: server.os_name },
    created_at: apiTimestamp(server.created_at),
    updated_at: apiTimestamp(server.updated_at),
  };
}

/** The detail form: the summary plus addresses, bandwidth, backups and usage (serialised in the contract's order). */
export function presentServerDetail(server: ServerDetails, currentPeriod: string) {
  const summary = presentServerSummary(server);
  const running = server.status === "active";
  return {
    ...summary,
    ipv6_address: shownAddress(server, server.ipv6),
    plan: { ...summary.plan, bandwidth: server.bandwidth_gb },
    backups_enabled: server.backups_enabled === 1,
    ssh:
      server.ssh_host !== null && server.ssh_port !== null && server.status !== "provisioning"
        ? { host: server.ssh_host, port: server.ssh_port }
        : null,
    resource_usage: {
      cpu_percent: running ? (server.cpu_percent ?? 0) : 0,
      memory_used: running ? (server.memory_used ?? 0) : 0,
      disk_used: server.disk_used ?? 0,
      // The month's billable traffic: the larger of the bytes received and sent (power-observation.ts).
      bandwidth_used:
        server.usage_period === currentPeriod ? bytesToGb(Number(server.bandwidth_bytes ?? 0)) : 0,
    },
  };
}
