import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

/** Only when asked (VPS_UPDATE_SCREENSHOTS=1), so that a test run leaves the tree as it was. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.VPS_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

describe("web console in a browser: the low-balance alert", { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  before(async () => {
    t = await startTestApp({ VPS_LOW_BALANCE_THRESHOLD: "5.00" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("raises the threshold on the account page, and every page warns until it is cleared", async () => {
    const made = await t.admin.post("/api/v1/admin/accounts/", {
      email: "alerts@example.com",
      credit: "18.40",
    });
    assert.equal(made.status, 201, made.text);
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, made.body.id)}`);
    await page.getByLabel("New password").fill("correct horse battery");
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
    const banner = page.locator("[data-balance-banner]");
    assert.equal(await banner.count(), 0, "18.40 is above the default 5.00");

    await page.goto(`${t.url}/account`);
    await page.getByLabel("Alert threshold (USD)").fill("25.00");
    await page.getByRole("button", { name: "Save the threshold" }).press("Enter");
    await page.waitForURL(`${t.url}/account?threshold=saved#low-balance`);
    assert.equal(
      (await page.getByRole("status").filter({ hasText: "Your balance is" }).textContent())?.trim(),
      "Your balance is 18.40 USD, below your alert threshold 25.00 USD. Add credit to keep your servers running. " +
        "Billing · Change the threshold",
    );

    await page.getByRole("link", { name: "Servers" }).click();
    await page.waitForURL(`${t.url}/servers`);
    assert.match((await banner.textContent()) ?? "", /below your alert threshold 25\.00 USD/);
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    assert.ok(width <= 390, `the banner fits a phone's width (${width}px)`);
    await screenshot(page, "low-balance.png");

    await page.goto(`${t.url}/account`);
    await page.getByLabel("Alert threshold (USD)").fill("");
    await page.getByRole("button", { name: "Save the threshold" }).click();
    await page.waitForURL(`${t.url}/account?threshold=saved#low-balance`);
    assert.equal(await banner.count(), 0, "back on the default 5.00, below the balance");
    await context.close();
  });
});
