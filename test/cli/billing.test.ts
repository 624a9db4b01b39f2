import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { billAcrossMonthEnd } from "../support/bill-across-month-end.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { clockInNextMonth, type SettableClock } from "../support/settable-clock.ts";
import { ADMIN_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { buildCli, ok, type VpsShell, vpsShell } from "../support/vps-cli.ts";

describe("vps account transactions, usage and statement; vps admin account credit and revenue", () => {
  // A server charged from the 2nd of next month to two hours into the month after, past the hour its month's
  // statement is closed (the service's clock is moved; the CLI only reads what it answers).
  let t: TestApp;
  let clock: SettableClock;
  let month: string;
  let monthStart: string;
  let nextMonthStart: string;
  let accountId: number;
  let customer: Awaited<ReturnType<TestApp["newAccount"]>>;
  let shell: VpsShell;
  let admin: VpsShell;
  before(async () => {
    buildCli();
    let start: number;
    let next: number;
    ({ clock, start, next, month } = clockInNextMonth());
    monthStart = new Date(start).toISOString().slice(0, 10);
    nextMonthStart = new Date(next).toISOString().slice(0, 10);
    t = await startTestApp({}, clock);
    customer = await t.newAccount("50.00");
    accountId = customer.accountId;
    const created = await customer.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201, created.text);
    await billAcrossMonthEnd(t, clock, next);
    shell = vpsShell({ VPS_URL: t.url, VPS_TOKEN: customer.token ?? "" });
    admin = vpsShell({ VPS_URL: t.url, VPS_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  after(() => t.close());

  const json = async (who: VpsShell, args: string[]) => {
    const run = await who.vps([...args, "-o", "json"]);
    ok(run);
    return JSON.parse(run.stdout);
  };
  const api = async (path: string) => (await customer.get(path)).body;

  it("credits with a kind and a reason, which the account's transactions show", async () => {
    const topup = await json(admin, [
      "admin",
      "account",
      "credit",
      String(accountId),
      "5.00",
      "--kind",
      "topup",
      "--reason",
      "bank transfer 42",
    ]);
    const corrected = await json(admin, [
      "admin",
      "account",
      "credit",
      String(accountId),
      "-1.25",
      "--reason",
      "hours charged during the outage",
    ]);
    assert.equal(Math.round(Number(topup.balance) * 100) - 125, Math.round(Number(corrected.balance) * 100));
    const noReason = await admin.vps(["admin", "account", "credit", String(accountId), "-1.00"]);
    assert.equal(noReason.code, 1, "a correction needs a reason");
    assert.match(noReason.stderr, /\(invalid_input\)\n {2}reason: /);
    const badKind = await admin.vps([
      "admin",
      "account",
      "credit",
      String(accountId),
      "1.00",
      "--kind",
      "gift",
    ]);
    assert.equal(badKind.code, 2);

    const corrections = await json(shell, ["account", "transactions", "--kind", "correction"]);
    assert.deepEqual(
      corrections.map((e: { amount: string; reason: string }) => [e.amount, e.reason]),
      [["-1.25", "hours charged during the outage"]],
    );
    const table = await shell.vps(["account", "transactions", "--kind", "topup"]);
    ok(table);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^ID\s+CREATED_AT\s+KIND\s+AMOUNT\s+SERVER_ID\s+DESCRIPTION$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{3,}/)[3]),
      ["5.00", "50.00"],
      "newest first",
    );
  });

  it("lists the newest 50 transactions, or every one with --all, within --since and --until", async () => {
    const all = await api("/api/v1/account/transactions/?page_size=500");
    assert.ok(all.count > 50, `${all.count} entries`);
    const first = await shell.vps(["account", "transactions", "-o", "json"]);
    ok(first);
    assert.deepEqual(
      JSON.parse(first.stdout).map((e: { id: number }) => e.id),
      all.results.slice(0, 50).map((e: { id: number }) => e.id),
    );
    assert.equal(first.stderr, `50 of ${all.count} shown: --all lists every one\n`);
    const every = await shell.vps(["account", "transactions", "--all", "-o", "json"]);
    ok(every);
    assert.equal(JSON.parse(every.stdout).length, all.count);
    assert.equal(every.stderr, "");

    const inMonth = await json(shell, [
      "account",
      "transactions",
      "--kind",
      "usage",
      "--since",
      monthStart,
      "--until",
      nextMonthStart,
      "--all",
    ]);
    const expected = await api(
      `/api/v1/account/transactions/?kind=usage&since=${monthStart}T00:00:00Z&until=${nextMonthStart}T00:00:00Z`,
    );
    assert.ok(expected.count > 50);
    assert.equal(inMonth.length, expected.count);
    for (const entry of inMonth as { kind: string; created_at: string }[]) {
      assert.equal(entry.kind, "usage");
      assert.ok(entry.created_at >= monthStart && entry.created_at < nextMonthStart, entry.created_at);
    }
    const badDate = await shell.vps(["account", "transactions", "--since", "yesterday"]);
    assert.equal(badDate.code, 2);
    assert.match(badDate.stderr, /\(invalid_input\)\n$/);
  });

  it("shows this month's usage as a table per server with the totals under it", async () => {
    const usage = await api("/api/v1/account/usage/");
    assert.deepEqual(await json(shell, ["account", "usage"]), usage);
    const [server] = usage.servers;
    const run = await shell.vps(["account", "usage"]);
    ok(run);
    const [table, totals] = run.stdout.split("\n\n");
    assert.match(table ?? "", /^SERVER_ID\s+NAME\s+HOURS\s+AMOUNT\s+BACKUPS\s+CAP\s+PROJECTED\n/);
    assert.match(
      table ?? "",
      new RegExp(
        `\\n${server.server_id}\\s+${server.name}\\s+${server.hours}\\s+${server.amount}\\s+${server.backups}\\s+${server.cap}\\s+${server.projected}$`,
      ),
    );
    assert.equal(
      totals,
      [
        `Month:         ${usage.month}`,
        `Snapshots:     ${usage.snapshots} USD`,
        `Total so far:  ${usage.total} USD`,
        `Projected:     ${usage.projected} USD`,
        "",
      ].join("\n"),
    );
  });

  it("lists the closed months and shows one's lines and totals", async () => {
    const statement = await api(`/api/v1/account/statements/${month}/`);
    const list = await json(shell, ["account", "statement", "list"]);
    assert.deepEqual(
      list.map((s: { month: string }) => s.month),
      [month],
    );
    assert.deepEqual(await json(shell, ["account", "statement", "describe", month]), statement);

    const run = await shell.vps(["account", "statement", "describe", month]);
    ok(run);
    const [table, totals] = run.stdout.split("\n\n");
    const rows = (table ?? "").split("\n");
    assert.match(rows[0] ?? "", /^SERVER_ID\s+KIND\s+ENTRIES\s+AMOUNT$/);
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(/\s+/)),
      statement.lines.map(
        (l: { server_id: number | null; kind: string; entries: number; amount: string }) => [
          l.server_id === null ? "-" : String(l.server_id),
          l.kind,
          String(l.entries),
          l.amount,
        ],
      ),
    );
    assert.equal(
      totals,
      [
        `Month:            ${month}`,
        `Opening balance:  ${statement.opening_balance} USD`,
        `Total:            ${statement.total} USD`,
        `Closing balance:  ${statement.closing_balance} USD`,
        "",
      ].join("\n"),
    );
    const listTable = await shell.vps(["account", "statements", "list"]);
    assert.match(
      listTable.stdout,
      new RegExp(
        `\\n${month}\\s+${statement.opening_balance}\\s+${statement.total}\\s+${statement.closing_balance}\\s+USD\\s+`,
      ),
    );

    const none = await shell.vps(["account", "statement", "describe", "2020-01"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^error: .+ \(not_found\)\n$/);
  });

  it("reports revenue per plan and location for a period", async () => {
    const expected = await t.admin.get(
      `/api/v1/admin/reports/revenue/?start=${monthStart}T00:00:00Z&end=${nextMonthStart}T00:00:00Z`,
    );
    const report = await json(admin, ["admin", "revenue", "--start", monthStart, "--end", nextMonthStart]);
    assert.deepEqual(report, expected.body);
    assert.notEqual(report.total, "0.00");
    const run = await admin.vps(["admin", "revenue", "--start", monthStart, "--end", nextMonthStart]);
    ok(run);
    const [table, totals] = run.stdout.split("\n\n");
    assert.match(
      table ?? "",
      /^PLAN\s+LOCATION\s+AMOUNT\s+ENTRIES\nStandard VPS\s+us-west\s+\d+\.\d\d\s+\d+/,
    );
    assert.equal(totals, `Period:  ${report.start} to ${report.end}\nTotal:   ${report.total}\n`);
    const backwards = await admin.vps(["admin", "revenue", "--start", nextMonthStart, "--end", monthStart]);
    assert.equal(backwards.code, 1);
    assert.match(backwards.stderr, /^error: .+ \(invalid_input\)\n/);
  });
});
