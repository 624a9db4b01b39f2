import { Command } from "commander";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { instant } from "../instant-option.ts";
import { adminClient } from "../session.ts";
import { printTableAndTotals } from "../totals-output.ts";

const REVENUE_TABLE = { columns: ["plan", "location", "amount", "entries"] };

/** The first of this calendar month and of the next (UTC), as dates. */
function thisMonth(now = new Date()): [string, string] {
  const day = (month: number) =>
    new Date(Date.UTC(now.getUTCFullYear(), month, 1)).toISOString().slice(0, 10);
  return [day(now.getUTCMonth()), day(now.getUTCMonth() + 1)];
}

/** `vps admin revenue`: what was charged in a period, less refunds, per plan and location. */
export function revenueCommand(): Command {
  const [start, end] = thisMonth();
  return example(
    new Command("revenue")
      .description("revenue per plan and location in [start, end): hours, backups and snapshots less refunds")
      .option("--start <date>", "from this date (UTC) or date-time; this month's first unless given")
      .option("--end <date>", "until before this date or date-time; next month's first unless given"),
    "vps admin revenue --start 2030-01-01 --end 2030-02-01",
  ).action(async (options: { start?: string; end?: string }, cmd: Command) => {
    const globals = globalOptions(cmd);
    const query = {
      start: instant(options.start ?? start, "--start") ?? "",
      end: instant(options.end ?? end, "--end") ?? "",
    };
    const { data } = await adminClient(globals).GET("/api/v1/admin/reports/revenue/", { params: { query } });
    if (!data) return;
    printTableAndTotals(data, data.results, globals, REVENUE_TABLE, [
      ["Period", `${data.start} to ${data.end}`],
      ["Total", data.total],
    ]);
  });
}
