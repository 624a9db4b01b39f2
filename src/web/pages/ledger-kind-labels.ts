import type { LedgerKind } from "../../domain/ledger.ts";

/** What each kind of ledger entry is called on the console's pages. */
export const LEDGER_KIND_LABELS: Record<LedgerKind, string> = {
  opening: "Opening balance",
  topup: "Top-up",
  usage: "Server hours",
  backup: "Backups",
  snapshot: "Snapshot storage",
  bandwidth: "Bandwidth beyond the allowance",
  refund: "Refund",
  correction: "Correction",
};
