import { Command, Option } from "commander";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { instant } from "../instant-option.ts";
import { collect, printOutput } from "../output.ts";
import { firstPageOrAll } from "../page-option.ts";
import { customerClient } from "../session.ts";
import { printTableAndTotals } from "../totals-output.ts";

const KINDS = ["opening", "topup", "usage", "backup", "snapshot", "refund", "correction"] as const;
const TRANSACTION_TABLE = { columns: ["id", "created_at", "kind", "amount", "server_id", "description"] };
const USAGE_TABLE = { columns: ["server_id", "name", "hours", "amount", "backups", "cap", "projected"] };
const STATEMENT_TABLE = {
  columns: ["month", "opening_balance", "total", "closing_balance", "currency", "closed_at"],
};
const LINE_TABLE = { columns: ["server_id", "kind", "entries", "amount"] };

/** `vps account transactions`, `usage` and `statement`: what the account was charged and credited. */
export function billingCommands(): Command[] {
  const transactions = example(
    new Command("transactions")
      .description(
        "the account's ledger entries, newest first: top-ups, hours, backups, refunds, corrections",
      )
      .addOption(new Option("--kind <kind>", "only entries of this kind").choices(KINDS))
      .option("--since <date>", "entries recorded at or after this date (UTC) or date-time")
      .option("--until <date>", "entries recorded before this date (UTC) or date-time")
      .option("--all", "every entry, not just the newest 50"),
    "vps account transactions --kind topup",
    "vps account transactions --since 2030-01-01 --until 2030-02-01 --all -o json",
  ).action(
    async (
      options: { kind?: (typeof KINDS)[number]; since?: string; until?: string; all?: boolean },
      cmd: Command,
    ) => {
      const globals = globalOptions(cmd);
      const query = {
        kind: options.kind,
        since: instant(options.since, "--since"),
        until: instant(options.until, "--until"),
      };
      const vps = customerClient(globals);
      const entries = await firstPageOrAll(
        options.all,
        () => vps.GET("/api/v1/account/transactions/", { params: { query } }),
        () => vps.pages("/api/v1/account/transactions/", query),
      );
      printOutput(entries, globals, TRANSACTION_TABLE);
    },
  );

  const usage = example(
    new Command("usage").description(
      "this month's usage so far: each server's hours and cost, and the month's total and projection",
    ),
    "vps account usage",
  ).action(async (_options: unknown, cmd: Command) => {
    const globals = globalOptions(cmd);
    const { data } = await customerClient(globals).GET("/api/v1/account/usage/");
    if (!data) return;
    const money = (amount: string) => `${amount} ${data.currency}`;
    printTableAndTotals(data, data.servers, globals, USAGE_TABLE, [
      ["Month", data.month],
      ["Snapshots", money(data.snapshots)],
      ["Total so far", money(data.total)],
      ["Projected", money(data.projected)],
    ]);
  });

  const statement = new Command("statement")
    .alias("statements")
    .description("the account's monthly statements (a month is closed on the 1st of the next)");
  statement.addCommand(
    example(
      new Command("list").description("the closed months, newest first"),
      "vps account statement list",
    ).action(async (_options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      printOutput(await collect(vps.pages("/api/v1/account/statements/")), globals, STATEMENT_TABLE);
    }),
  );
  statement.addCommand(
    example(
      new Command("describe")
        .description("a closed month's lines per server and kind, its total and balances")
        .argument("<month>", "YYYY-MM"),
      "vps account statement describe 2030-01",
    ).action(async (month: string, _options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const { data } = await customerClient(globals).GET("/api/v1/account/statements/{month}/", {
        params: { path: { month } },
      });
      if (!data) return;
      const money = (amount: string) => `${amount} ${data.currency}`;
      printTableAndTotals(data, data.lines, globals, LINE_TABLE, [
        ["Month", data.month],
        ["Opening balance", money(data.opening_balance)],
        ["Total", money(data.total)],
        ["Closing balance", money(data.closing_balance)],
      ]);
    }),
  );

  return [transactions, usage, statement];
}
