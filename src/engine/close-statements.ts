import type { Repositories } from "../db/repositories/repositories.ts";
import { monthStart, nextMonth } from "../domain/ledger.ts";

/**
 * Closes `month` for the accounts that existed in it and have no statement of it yet: the entries recorded in it,
 * summed per server and kind, with the balances before and after. Stored once (a second close of the same month,
 * by any process, changes nothing), so a statement never changes. Returns how many it closed.
 */
export async function closeStatements(
  repos: Repositories,
  month: string,
  closedAt: string,
  batch = 500,
): Promise<number> {
  const since = monthStart(month);
  const until = monthStart(nextMonth(month));
  let closed = 0;
  for (;;) {
    const accounts = await repos.ledger.accountsWithoutStatement(month, until, batch);
    if (accounts.length === 0) return closed;
    for (const account of accounts) {
      const [opening, lines] = await Promise.all([
        repos.ledger.sum(account.id, since),
        repos.ledger.lines(account.id, since, until),
      ]);
      const total = lines.reduce((sum, line) => sum + line.amount_minor, 0);
      await repos.ledger.insertStatement({
        account_id: account.id,
        month,
        currency: account.currency,
        opening_minor: opening,
        total_minor: total,
        closing_minor: opening + total,
        lines: JSON.stringify(lines),
        closed_at: closedAt,
      });
      closed++;
    }
  }
}
