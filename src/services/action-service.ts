import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { NotFound, ServerNotFound } from "../domain/errors.ts";

/**
 * Actions are the operation engine's own records, shown to customers: what a request started, how it is
 * going and how it ended. There is no second log to keep in step.
 */
export class ActionService {
  readonly #repos: Repositories;
  constructor(repos: Repositories) {
    this.#repos = repos;
  }

  async get(accountId: number, id: number): Promise<OperationRow> {
    const action = await this.#repos.operations.findForAccount(accountId, id);
    if (!action) throw new NotFound("Action");
    return action;
  }

  async listForServer(
    accountId: number,
    serverId: number,
    page: number,
    pageSize: number,
  ): Promise<{ count: number; actions: OperationRow[] }> {
    if (!(await this.#repos.servers.findDetails(accountId, serverId))) throw new ServerNotFound();
    const [count, actions] = await Promise.all([
      this.#repos.operations.countForServer(serverId),
      this.#repos.operations.listForServer(serverId, pageSize, (page - 1) * pageSize),
    ]);
    return { count, actions };
  }
}
