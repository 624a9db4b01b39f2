import { Type } from "@sinclair/typebox";
import { LEDGER_KINDS } from "../../domain/ledger.ts";
import { described, Money, Nullable, Page, Paged, PageSize, Timestamp } from "./common.ts";

const Kind = Type.Union(
  LEDGER_KINDS.map((kind) => Type.Literal(kind)),
  {
    description:
      "opening (the balance held before the ledger), topup, usage (a server's hour), backup (its backups' " +
      "surcharge for the hour), bandwidth (the hour's charge for the month's traffic beyond the allowance), snapshot (an hour of a snapshot's storage), refund, correction (by the provider, " +
      "with its reason).",
  },
);

const Month = Type.String({ pattern: "^\\d{4}-\\d{2}$", examples: ["2030-01"] });

export const LedgerEntrySchema = Type.Object(
  {
    id: Type.Integer(),
    kind: Kind,
    amount: described(Money, "Signed: credit positive, a charge negative."),
    currency: Type.String(),
    description: Type.String(),
    server_id: Nullable(Type.Integer()),
    image_id: Nullable(Type.Integer()),
    plan_id: Nullable(Type.Integer()),
    period_start: Nullable(described(Timestamp, "Start of the hour (or period) the entry pays for.")),
    period_end: Nullable(Timestamp),
    reason: Nullable(Type.String()),
    created_at: Timestamp,
  },
  { title: "LedgerEntry" },
);

export const TransactionList = Paged(LedgerEntrySchema, "The account's entries that match the filters.");

export const TransactionsQuery = Type.Object({
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
  kind: Type.Optional(Kind),
  since: Type.Optional(
    Type.String({ format: "date-time", description: "Entries recorded at or after this time (ISO 8601)." }),
  ),
  until: Type.Optional(
    Type.String({ format: "date-time", description: "Entries recorded before this time." }),
  ),
});

export const ServerUsageSchema = Type.Object({
  server_id: Type.Integer(),
  name: Type.String(),
  deleted: Type.Boolean(),
  plan_id: Type.Integer({ description: "Its plan now." }),
  hours: Type.Integer({ description: "Hours charged this month, those past the cap (at zero) too." }),
  amount: described(Money, "Its hours this month so far."),
  backups: described(Money, "Its backups' surcharge this month so far."),
  bandwidth_used: Type.Number({
    description: "Its traffic this month, GB (10^9 bytes, to three decimals): the larger of in and out.",
  }),
  bandwidth_allowance: Type.Number({
    description: "The allowance its hours charged this month accrued, GB: each its plan's bandwidth / 672.",
  }),
  bandwidth_overage: Type.Number({ description: "Its traffic beyond the allowance, GB." }),
  bandwidth: described(
    Money,
    "Charged for its traffic beyond the allowance this month so far (with each hour; outside the cap).",
  ),
  cap: described(Money, "The most its hours cost this month: the highest monthly price of its plans in it."),
  projected: described(
    Money,
    "What it will cost this month (hours and backups) at this rate, within its caps, and the bandwidth charged " +
      "so far; no more than so far once it is deleted, suspended or in error.",
  ),
});

export const UsageSchema = Type.Object(
  {
    month: Month,
    servers: Type.Array(ServerUsageSchema),
    snapshots: described(Money, "Snapshot storage charged this month so far."),
    total: described(Money, "Everything charged this month so far."),
    projected: described(Money, "What the month will cost at this rate."),
    currency: Type.String(),
  },
  { title: "Usage" },
);

export const StatementLineSchema = Type.Object({
  server_id: Nullable(
    Type.Integer({ description: "Null for the account's own entries (top-ups, corrections)." }),
  ),
  kind: Kind,
  entries: Type.Integer({ description: "How many entries it sums (a server's hours, say)." }),
  amount: Money,
});

export const StatementSchema = Type.Object(
  {
    month: Month,
    currency: Type.String(),
    opening_balance: Money,
    total: described(Money, "The sum of the lines."),
    closing_balance: described(Money, "opening_balance + total."),
    closed_at: Timestamp,
    lines: Type.Array(StatementLineSchema),
  },
  { title: "Statement" },
);

export const StatementList = Paged(StatementSchema, "The account's closed months.");

export const StatementParams = Type.Object({ month: Type.String({ description: "YYYY-MM" }) });

export const StatementsQuery = Type.Object({
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
});

export const RevenueQuery = Type.Object({
  start: Type.String({
    format: "date-time",
    description: "Entries recorded at or after this time (ISO 8601).",
  }),
  end: Type.String({ format: "date-time", description: "Entries recorded before this time." }),
});

export const RevenueReport = Type.Object(
  {
    start: Timestamp,
    end: Timestamp,
    total: Money,
    results: Type.Array(
      Type.Object({
        plan_id: Nullable(Type.Integer({ description: "Null for snapshot storage, which no plan prices." })),
        plan: Nullable(Type.String()),
        location: Nullable(Type.String()),
        amount: described(Money, "Charges less refunds."),
        entries: Type.Integer(),
      }),
    ),
  },
  { title: "RevenueReport" },
);
