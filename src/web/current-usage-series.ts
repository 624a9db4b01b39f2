import { presentServerDetail } from "../api/presenters/present-server.ts";
import type { ServerDetails } from "../db/repositories/server-repository.ts";
import { usagePeriod } from "../domain/usage.ts";

/** The series `GET /servers/{id}/metrics/` answers (Hetzner's shape): per name, [unix seconds, "value"] points. */
export interface UsageSeries {
  start: string;
  end: string;
  step: number;
  time_series: Record<string, { values: [number, string][] }>;
}

/**
 * Stands in for the usage history until its service is here: the server's current `resource_usage` (what the
 * API's server detail shows) as one point at `now`, in the history's series. Network has no rate without a
 * history, so its series is empty.
 */
export function currentUsageSeries(
  server: ServerDetails,
  range: { start: string; end: string },
  now: string,
): UsageSeries {
  const usage = presentServerDetail(server, usagePeriod(now)).resource_usage;
  const at = Math.floor(Date.parse(now) / 1000);
  const point = (value: number): [number, string][] => [[at, String(value)]];
  return {
    start: range.start,
    end: range.end,
    step: 60,
    time_series: {
      cpu: { values: point(usage.cpu_percent) },
      "memory.used": { values: point(usage.memory_used) },
      "disk.0.used": { values: point(usage.disk_used) },
      "network.0.bandwidth": { values: [] },
    },
  };
}
