import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { insertServers } from "../support/insert-servers.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const PASSWORD = "correct horse battery";
const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

describe("the servers list in a browser", { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  before(async () => {
    t = await startTestApp();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("pages through 250 servers, and the page shown keeps its statuses up to date without a reload", async () => {
    const customer = await t.newAccount();
    const servers = await insertServers(t.database.db, 250, () => customer.accountId, "box");
    const page = await (await browser.newContext({ viewport: { width: 390, height: 800 } })).newPage();
    await page.goto(`${t.url}${await invitationPath(t, customer.accountId)}`);
    await page.getByLabel("New password").fill(PASSWORD);
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);

    const pages = page.getByRole("navigation", { name: "Pages" });
    assert.equal((await pages.textContent())?.replace(/\s+/g, " ").trim(), "Showing 1–100 of 250 Next");
    assert.equal(await page.locator("#server-list tbody tr").count(), 100);
    await pages.getByRole("link", { name: "Next" }).click();
    await page.waitForURL(`${t.url}/servers?page=2`);
    assert.match((await pages.textContent()) ?? "", /Showing 101–200 of 250/);
    assert.equal(await page.locator("#server-list tbody th").first().textContent(), "box-100");

    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    const onThisPage = servers[150];
    assert.ok(onThisPage);
    await t.database.db
      .updateTable("servers")
      .set({ status: "suspended" })
      .where("id", "=", onThisPage.id)
      .execute();
    await page
      .locator(`#server-list tr[data-server-id="${onThisPage.id}"] [data-status="suspended"]`)
      .waitFor({ timeout: 15_000 });
    assert.ok(
      await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded === true),
      "the status changed without a reload",
    );
    assert.match((await pages.textContent()) ?? "", /Showing 101–200 of 250/, "still page 2");
    if (process.env.VPS_UPDATE_SCREENSHOTS === "1") {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, "servers-paged.png") });
    }

    await pages.getByRole("link", { name: "Next" }).click();
    await page.waitForURL(`${t.url}/servers?page=3`);
    assert.equal(await page.locator("#server-list tbody tr").count(), 50);
    assert.equal(await pages.getByRole("link", { name: "Next" }).count(), 0);
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    assert.ok(width <= 390, `fits a phone's width (${width} px)`);
  });
});
