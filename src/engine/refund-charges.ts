import type { Repositories } from "../db/repositories/repositories.ts";
import type { OperationRow } from "../db/schema.ts";
import { hoursPaid } from "../domain/billing.ts";

/**
 * Gives back every hour a server was charged, for a create that failed for good: the server never ran. Runs in
 * the transaction that records the operation's failure; the refund row, keyed by the operation, makes a second
 * one impossible, and the server is billed no more.
 */
export async function refundCharges(
  tx: Repositories,
  op: Pick<OperationRow, "id" | "server_id">,
  now: string,
): Promise<void> {
  const server = await tx.servers.findById(op.server_id);
  if (!server?.billed_until) return;
  const plan = await tx.catalogue.findPlan(server.plan_id);
  if (!plan) return;
  const amount = hoursPaid(server.created_at, server.billed_until) * plan.price_hourly_minor;
  const recorded = await tx.billing.recordRefund({
    operation_id: op.id,
    account_id: server.account_id,
    server_id: server.id,
    amount_minor: amount,
    reason: "create_failed",
    created_at: now,
  });
  if (recorded && amount > 0) await tx.accounts.addCredit(server.account_id, amount, now);
}
