import type { FailedOperation } from "../db/repositories/operation-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { NotFound, ServerNotFound } from "../domain/errors.ts";
import { HIDDEN_KINDS } from "../domain/lifecycle.ts";
import type { ChangeFeed } from "../engine/change-feed.ts";

/** The longest a request may wait (`?wait=`), in seconds. */
export const MAX_WAIT_SECONDS = 60;

/**
 * Actions are the operation engine's own records, shown to customers: what a request started, how it is
 * going and how it ended. There is no second log to keep in step. The provider's housekeeping (a migration's
 * clean-up of a copy, on a host that is no longer the server's) is not among them.
 */
export class ActionService {
  readonly #repos: Repositories;
  readonly #changes: ChangeFeed;
  constructor(repos: Repositories, changes: ChangeFeed) {
    this.#repos = repos;
    this.#changes = changes;
  }

  /**
   * The action; with `waitSeconds`, once it has ended or the time is up, whichever comes first. The request
   * sleeps until the engine says its server changed (this process's worker, or a notification from another),
   * so a waiting client costs one request, not a poll every second.
   */
  async get(accountId: number, id: number, waitSeconds = 0): Promise<OperationRow> {
    const deadline = Date.now() + Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
    // The server is known from the first read on; each later read is made listening already, so an end announced
    // while it is under way wakes the wait at once instead of being missed.
    let serverId: number | undefined;
    for (;;) {
      const change = serverId === undefined ? undefined : this.#changes.watch(serverId);
      try {
        const action = await this.#repos.operations.findForAccount(accountId, id, HIDDEN_KINDS);
        if (!action) throw new NotFound("Action");
        const ended = action.status !== "pending" && action.status !== "running";
        if (ended || Date.now() >= deadline) return action;
        serverId = action.server_id;
        // A safety net of a few seconds covers a notification lost with a dropped connection.
        if (change) await change.next(Math.min(deadline - Date.now(), 5000));
      } finally {
        change?.stop();
      }
    }
  }

  async listForServer(
    accountId: number,
    serverId: number,
    page: number,
    pageSize: number,
  ): Promise<{ count: number; actions: OperationRow[] }> {
    if (!(await this.#repos.servers.findDetails(accountId, serverId))) throw new ServerNotFound();
    const [count, actions] = await Promise.all([
      this.#repos.operations.countForServer(serverId, HIDDEN_KINDS),
      this.#repos.operations.listForServer(serverId, pageSize, (page - 1) * pageSize, HIDDEN_KINDS),
    ]);
    return { count, actions };
  }

  /** For operators: the failed actions of every account, the newest ended first (the provider's housekeeping too). */
  async listFailed(page: number, pageSize: number): Promise<{ count: number; actions: FailedOperation[] }> {
    const [count, actions] = await Promise.all([
      this.#repos.operations.countFailed(),
      this.#repos.operations.listFailed(pageSize, (page - 1) * pageSize),
    ]);
    return { count, actions };
  }
}
