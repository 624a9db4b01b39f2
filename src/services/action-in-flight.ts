import type { Repositories } from "../db/repositories/repositories.ts";
import type { InvalidState } from "../domain/errors.ts";
import { LIFECYCLE } from "../domain/lifecycle.ts";

/**
 * The 400 of a server whose status does not allow an action, naming the customer's action in flight on it, if
 * any, so a client can wait for that action rather than poll.
 */
export async function withActionInFlight(
  tx: Repositories,
  serverId: number,
  rejection: InvalidState,
): Promise<InvalidState> {
  rejection.actionId = (await tx.operations.unfinishedFor(serverId)).find(
    (op) => LIFECYCLE[op.kind].command !== null,
  )?.id;
  return rejection;
}
