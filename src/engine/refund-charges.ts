import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { ledgerKeys } from "../domain/ledger.ts";

/**
 * Gives back everything a server was charged (its hours and their backup surcharge), for a create that failed for
 * good: the server never ran. Runs in the transaction that records the operation's failure; the refund row and the
 * ledger entry, both keyed by the operation, make a second one impossible, and the server is billed no more.
 */
export async function refundCharges(
  tx: Repositories,
  op: Pick<OperationRow, "id" | "server_id">,
  now: string,
): Promise<void> {
  const server = await tx.servers.findById(op.server_id);
  if (!server?.billed_until) return;
  const account = await tx.accounts.findById(server.account_id);
  if (!account) return;
  const amount = -(await tx.ledger.serverCharges(server.id));
  const recorded = await tx.billing.recordRefund({
    operation_id: op.id,
    account_id: server.account_id,
    server_id: server.id,
    amount_minor: amount,
    reason: "create_failed",
    created_at: now,
  });
  if (!recorded || amount === 0) return;
  await tx.ledger.append({
    account_id: server.account_id,
    kind: "refund",
    amount_minor: amount,
    currency: account.currency,
    key: ledgerKeys.refund(op.id),
    server_id: server.id,
    plan_id: server.plan_id,
    description: "Refund: the server could not be created",
    reason: "create_failed",
    created_at: now,
  });
}
