import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { clockInNextMonth } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const HOUR = 3_600_000;
const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

/** Only when asked (VPS_UPDATE_SCREENSHOTS=1), so that a test run leaves the tree as it was. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.VPS_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

const visible = (page: Page, selector: string) => page.locator(selector).first().isVisible();

describe("web console in a browser: billing and a printed statement", { skip: browserSkip() }, () => {
  // A month of two servers' hours: the clock starts on the 2nd of next month, goes to the last hour of that month
  // and on past the 1st's closing of its statement.
  let t: TestApp;
  let month: string;
  let accountId: number;
  before(async () => {
    const inNextMonth = clockInNextMonth();
    const { clock, next } = inNextMonth;
    month = inNextMonth.month;
    t = await startTestApp({ VPS_BACKUP_PRICE_PERCENT: "20" }, clock);
    const made = await t.admin.post("/api/v1/admin/accounts/", {
      email: "billing@example.com",
      credit: "80.00",
    });
    accountId = made.body.id;
    const token = made.body.api_token;
    for (const [name, backups] of [
      ["web-1", true],
      ["db-1", false],
    ] as const) {
      const res = await fetch(`${t.url}/api/v1/servers/`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          ...SAMPLE_CREATE,
          name,
          hostname: `${name}.example.com`,
          backups_enabled: backups,
        }),
      });
      assert.equal(res.status, 201, await res.text());
    }
    clock.advance(10 * 24 * HOUR);
    await t.app.engine.billing.runOnce();
    clock.advance(next - HOUR / 2 - clock.now().getTime());
    await t.app.engine.billing.runOnce();
    clock.advance(5 * HOUR);
    await t.app.engine.billing.runOnce();
  });
  after(() => t?.close());

  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser?.close());

  async function signedIn(width: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, accountId)}`);
    await page.getByLabel("New password").fill("correct horse battery");
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
    return page;
  }

  it("opens Billing from the navigation, filters the transactions and opens a statement", async () => {
    const page = await signedIn(1100);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Billing" }).click();
    await page.waitForURL(`${t.url}/billing`);
    await page.getByRole("heading", { name: "Billing", level: 1 }).waitFor();
    const account = (await t.admin.get(`/api/v1/admin/accounts/${accountId}/`)).body;
    assert.equal(await page.locator("[data-balance]").textContent(), `${account.balance} USD`);
    const names = await page.locator("table.usage tbody th").allTextContents();
    assert.deepEqual(names.map((n) => n.trim()).sort(), ["db-1", "web-1"]);
    // The screenshot shows a short page of the transactions.
    await page.goto(`${t.url}/billing?page_size=8`);
    await screenshot(page, "billing.png");

    await page.getByLabel("Kind").selectOption("backup");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(`${t.url}/billing?kind=backup`);
    const kinds = await page.locator("table.transactions tbody td:nth-child(2)").allTextContents();
    assert.ok(kinds.length > 0 && kinds.every((k) => k === "Backups"), kinds.join(", "));
    await page.getByRole("link", { name: "Next" }).click();
    await page.waitForURL(/page=2&kind=backup/);

    await page.getByRole("link", { name: month }).click();
    await page.waitForURL(`${t.url}/billing/statements/${month}`);
    await page.getByRole("heading", { name: `Statement ${month}` }).waitFor();
    const lines = await page.locator("table.statement-lines tbody tr").count();
    assert.ok(lines >= 4, `a line per server and kind, and the top-up (${lines})`);

    // The Print button is the page's script's: it calls the browser's print.
    const print = page.getByRole("button", { name: "Print" });
    await print.waitFor();
    await page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }");
    await print.click();
    assert.equal(await page.locator("body").getAttribute("data-printed"), "yes");

    assert.ok(await visible(page, "header.top nav"), "the screen shows the navigation");
    await page.emulateMedia({ media: "print" });
    assert.equal(await visible(page, "header.top"), false, "printed without the navigation");
    assert.equal(await print.isVisible(), false, "printed without buttons");
    assert.equal(await visible(page, "a[href='/billing']"), false, "nor the link back");
    const colours = await page.evaluate<{ body: string; text: string }>(
      `({ body: getComputedStyle(document.body).backgroundColor, text: getComputedStyle(document.querySelector("table.statement-lines td")).color })`,
    );
    assert.deepEqual(colours, { body: "rgb(255, 255, 255)", text: "rgb(0, 0, 0)" }, "black on white");
    await page.setViewportSize({ width: 800, height: 1000 });
    await screenshot(page, "statement-print.png");
    await page.context().close();
  });

  it("fits a phone's width", async () => {
    const page = await signedIn(390);
    for (const path of ["/billing", `/billing/statements/${month}`]) {
      await page.goto(`${t.url}${path}`);
      const width = await page.evaluate<number>("document.documentElement.scrollWidth");
      assert.ok(width <= 390, `${path} fits a phone's width (${width} px)`);
    }
    await page.context().close();
  });
});
