import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { billAcrossMonthEnd } from "../support/bill-across-month-end.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { clockInNextMonth, type SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor, webVisitor } from "../support/web-session.ts";

const cents = (money: string) => Math.round(Number(money) * 100);

/** The text of every element of the page that carries the attribute, in order (tags stripped). */
function marked(page: string, attribute: string): string[] {
  const found = page.matchAll(
    new RegExp(`<(\\w+)[^>]*\\s${attribute}(?:="[^"]*")?[^>]*>([\\s\\S]*?)</\\1>`, "g"),
  );
  return [...found].map((m) => (m[2] ?? "").replace(/<[^>]+>/g, "").trim());
}

/** The cells of the table row with the attribute's value, as text. */
function row(page: string, attribute: string, value: string | number): string[] {
  const found = new RegExp(`<tr[^>]*\\s${attribute}="${value}"[^>]*>([\\s\\S]*?)</tr>`).exec(page);
  assert.ok(found, `a row with ${attribute}="${value}"`);
  return [...(found[1] ?? "").matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) =>
    (m[1] ?? "")
      .replace(/<[^>]+>/g, "")
      .replace(/\s+/g, " ")
      .trim(),
  );
}

describe("web console: billing pages (raw HTTP)", () => {
  // A month of a server's hours: the clock starts on the 2nd of next month and goes on to the 1st of the month
  // after, past the hour when the month's statement is closed, and two hours into the new month.
  let t: TestApp;
  let clock: SettableClock;
  let month: string;
  let customer: Awaited<ReturnType<TestApp["newAccount"]>>;
  let other: Awaited<ReturnType<TestApp["newAccount"]>>;
  let serverId: number;
  let browser: WebVisitor;
  before(async () => {
    let next: number;
    ({ clock, next, month } = clockInNextMonth());
    t = await startTestApp({ VPS_BACKUP_PRICE_PERCENT: "20" }, clock);
    customer = await t.newAccount("50.00");
    other = await t.newAccount("20.00");
    const created = await customer.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201, created.text);
    serverId = created.body.id;
    await other.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false });
    await billAcrossMonthEnd(t, clock, next);
    browser = await signedInVisitor(t, customer.accountId);
  });
  after(() => t.close());

  it("shows the balance and this month's usage per server as the API answers them", async () => {
    const res = await browser.get("/billing");
    assert.equal(res.status, 200);
    const page = await res.text();
    const account = (await t.admin.get(`/api/v1/admin/accounts/${customer.accountId}/`)).body;
    assert.deepEqual(marked(page, "data-balance"), [`${account.balance} USD`]);
    const usage = (await customer.get("/api/v1/account/usage/")).body;
    assert.equal(usage.servers.length, 1);
    const server = usage.servers[0];
    assert.ok(server.hours > 0 && server.backups !== "0.00", "the new month is charged, backups too");
    assert.deepEqual(row(page, "data-server-id", serverId), [
      server.name,
      String(server.hours),
      server.amount,
      server.backups,
      ((cents(server.amount) + cents(server.backups)) / 100).toFixed(2),
      server.cap,
      server.projected,
    ]);
    assert.deepEqual(marked(page, "data-total"), [usage.total]);
    assert.deepEqual(marked(page, "data-projected-total"), [usage.projected]);
    assert.match(page, new RegExp(`This month so far \\(${usage.month}, USD\\)`));
    assert.match(page, /<a href="\/billing" aria-current="page">Billing<\/a>/);
  });

  it("pages the transactions like the servers list and filters them by kind, as the API lists them", async () => {
    const api = (await customer.get("/api/v1/account/transactions/?page_size=500")).body;
    assert.ok(api.count > 4);
    const first = await (await browser.get("/billing?page_size=2")).text();
    assert.match(first, new RegExp(`Showing 1–2 of ${api.count.toLocaleString("en-US")}`));
    assert.match(first, /<a href="\/billing\?page=2&amp;page_size=2" rel="next">Next<\/a>/);
    const second = await (await browser.get("/billing?page=2&page_size=2")).text();
    const shown = [...second.matchAll(/data-entry-id="(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      shown,
      api.results.slice(2, 4).map((e: { id: number }) => e.id),
    );
    const [entry] = api.results.slice(2, 3);
    assert.equal(row(second, "data-entry-id", entry.id).at(-1), `${entry.amount} USD`);

    const backups = (await customer.get("/api/v1/account/transactions/?kind=backup&page_size=2")).body;
    const filtered = await (await browser.get("/billing?kind=backup&page_size=2")).text();
    assert.deepEqual(
      [...filtered.matchAll(/data-kind="(\w+)"/g)].map((m) => m[1]),
      ["backup", "backup"],
    );
    assert.match(filtered, new RegExp(`Showing 1–2 of ${backups.count.toLocaleString("en-US")}`));
    assert.match(
      filtered,
      /<a href="\/billing\?page=2&amp;kind=backup&amp;page_size=2" rel="next">/,
      "the next page keeps the filter",
    );
    assert.match(filtered, /<option value="backup" selected>Backups<\/option>/);
    const [topup] = (await customer.get("/api/v1/account/transactions/?kind=topup")).body.results;
    const topups = await (await browser.get("/billing?kind=topup")).text();
    assert.deepEqual(row(topups, "data-kind", "topup").slice(1), ["Top-up", topup.description, "50.00 USD"]);
    assert.equal((await browser.get("/billing?kind=")).status, 200, "an empty kind is every kind");
  });

  it("refuses a kind or page the API refuses with a 400 page", async () => {
    for (const query of ["kind=gift", "page=0", "page_size=501"]) {
      const res = await browser.get(`/billing?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(await res.text(), /<h1>/);
    }
  });

  it("lists the closed month and shows its statement as the API answers it", async () => {
    const statement = (await customer.get(`/api/v1/account/statements/${month}/`)).body;
    const billing = await (await browser.get("/billing")).text();
    assert.deepEqual(row(billing, "data-month", month), [
      month,
      `${statement.opening_balance} USD`,
      `${statement.total} USD`,
      `${statement.closing_balance} USD`,
    ]);
    assert.match(billing, new RegExp(`<a href="/billing/statements/${month}">${month}</a>`));

    const res = await browser.get(`/billing/statements/${month}`);
    assert.equal(res.status, 200);
    const page = await res.text();
    assert.match(page, new RegExp(`<h1>Statement ${month}</h1>`));
    assert.deepEqual(marked(page, "data-opening"), [`${statement.opening_balance} USD`]);
    assert.deepEqual(marked(page, "data-total"), [statement.total]);
    assert.deepEqual(marked(page, "data-closing"), [statement.closing_balance]);
    const lines = [...page.matchAll(/<tr data-server-id="(\d*)" data-kind="(\w+)">/g)].map((m) => [
      m[1] === "" ? null : Number(m[1]),
      m[2],
    ]);
    assert.deepEqual(
      lines,
      statement.lines.map((l: { server_id: number | null; kind: string }) => [l.server_id, l.kind]),
    );
    const usageLine = statement.lines.find((l: { kind: string }) => l.kind === "usage");
    assert.deepEqual(row(page, 'data-server-id="\\d+" data-kind', "usage"), [
      `${SAMPLE_CREATE.name} #${serverId}`,
      "Server hours",
      String(usageLine.entries),
      usageLine.amount,
    ]);
    assert.match(page, /<button type="button" data-print hidden>Print<\/button>/);
    assert.match(page, /<script src="\/assets\/print-button\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    assert.doesNotMatch(page, /<script>|onclick=/, "no inline script: the CSP forbids it");
  });

  it("another account's statement, and a month that is none, are a 404 page", async () => {
    const theirs = (await other.get(`/api/v1/account/statements/${month}/`)).body;
    assert.equal(theirs.month, month, "the other account has a statement of the month too");
    const stranger = await signedInVisitor(t, other.accountId);
    const theirPage = await stranger.get(`/billing/statements/${month}`);
    assert.equal(theirPage.status, 200, "each account sees its own month");
    const own = await theirPage.text();
    assert.deepEqual(marked(own, "data-closing"), [theirs.closing_balance]);
    assert.doesNotMatch(own, new RegExp(`#${serverId}`), "another account's server is never named");
    for (const path of [
      "/billing/statements/2020-01",
      "/billing/statements/2020-13",
      "/billing/statements/x",
    ]) {
      assert.equal((await browser.get(path)).status, 404, path);
    }
    const outsider = await t.newAccount();
    const visitor = await signedInVisitor(t, outsider.accountId);
    assert.equal((await visitor.get(`/billing/statements/${month}`)).status, 404);
  });

  it("sends a browser that is not signed in to /sign-in", async () => {
    for (const path of ["/billing", `/billing/statements/${month}`]) {
      const res = await webVisitor(t.url).get(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("location"), "/sign-in");
    }
  });

  it("shows an operator the revenue per plan and location of a period, as the admin API reports it", async () => {
    const operator = await signedInVisitor(t, 1);
    const next = new Date(clock.now()).toISOString().slice(0, 7);
    const start = `${month}-01`;
    const end = `${next}-01`;
    const api = (await t.admin.get(`/api/v1/admin/reports/revenue/?start=${start}&end=${end}`)).body;
    assert.ok(api.results.length > 0);
    const res = await operator.get(`/admin/revenue?start=${start}&end=${end}`);
    assert.equal(res.status, 200);
    const page = await res.text();
    for (const line of api.results) {
      assert.deepEqual(row(page, "data-plan-id", line.plan_id ?? ""), [
        line.plan ?? "Snapshot storage (no plan)",
        line.location ?? "—",
        line.entries.toLocaleString("en-US"),
        line.amount,
      ]);
    }
    assert.deepEqual(marked(page, "data-total"), [api.total]);
    assert.match(page, /<a href="\/admin\/revenue" aria-current="page">Revenue<\/a>/);
    assert.match(page, new RegExp(`<input id="start" name="start" type="date" required value="${start}">`));

    // Without a period: this calendar month (the clock's), to the 1st of the next.
    const [year, m] = next.split("-").map(Number) as [number, number];
    const following = new Date(Date.UTC(year, m, 1)).toISOString().slice(0, 10);
    const current = (await t.admin.get(`/api/v1/admin/reports/revenue/?start=${next}-01&end=${following}`))
      .body;
    assert.ok(current.results.length > 0, "the new month has its hours");
    const shown = await (await operator.get("/admin/revenue")).text();
    assert.match(shown, new RegExp(`value="${next}-01"`));
    assert.match(shown, new RegExp(`value="${following}"`));
    assert.deepEqual(marked(shown, "data-total"), [current.total]);
  });

  it("refuses a period the admin API refuses, on the form, and is a 404 to a customer", async () => {
    const operator = await signedInVisitor(t, 1);
    const backwards = await operator.get("/admin/revenue?start=2030-02-01&end=2030-01-01");
    assert.equal(backwards.status, 400);
    const page = await backwards.text();
    assert.match(
      page,
      /<div class="alert" role="alert">[\s\S]*invalid_input[\s\S]*<strong>end<\/strong>: Must not be before start\./,
    );
    assert.match(page, /value="2030-02-01"/, "the form keeps what was typed");
    const nonsense = await operator.get("/admin/revenue?start=soon&end=2030-01-01");
    assert.equal(nonsense.status, 400);
    assert.match(await nonsense.text(), /<strong>start<\/strong>: Must be an ISO 8601 time/);
    assert.equal((await browser.get("/admin/revenue")).status, 404);
  });
});
