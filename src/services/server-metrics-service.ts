import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import { ServerNotFound } from "../domain/errors.ts";
import { type MetricsRequest, planMetrics, type TimeSeries, timeSeries } from "../domain/usage-history.ts";

export interface ServerMetrics {
  start: string;
  end: string;
  step: number;
  time_series: TimeSeries;
}

/** A server's usage history, as `GET /servers/{id}/metrics/` answers it. */
export class ServerMetricsService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  constructor(repos: Repositories, clock: Clock) {
    this.#repos = repos;
    this.#clock = clock;
  }

  async series(accountId: number, serverId: number, request: MetricsRequest): Promise<ServerMetrics> {
    const server = await this.#repos.servers.findById(serverId);
    if (!server || server.account_id !== accountId || server.deleted_at !== null) throw new ServerNotFound();
    const plan = planMetrics(request, this.#clock.now().getTime());
    const rows = await this.#repos.usageHistory.series(serverId, plan.resolution, plan.from, plan.to);
    return { start: plan.start, end: plan.end, step: plan.step, time_series: timeSeries(plan, rows) };
  }
}
