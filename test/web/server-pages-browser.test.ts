import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const PASSWORD = "correct horse battery";
const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");
/** Long enough for a waiting test to see the server on its way and an action under way. */
const LIVE_WAIT = { timeout: 30_000 };

/** Only when asked (VPS_UPDATE_SCREENSHOTS=1), so that a test run leaves the tree as it was. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.VPS_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/** Marks the page's window: still marked later means the page was never reloaded meanwhile. */
async function mark(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
  });
}
async function stillMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded === true);
}

describe("server pages in a browser", { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  before(async () => {
    t = await startTestApp({ VPS_SIM_DELAY_MS: "2000", VPS_BACKUP_PRICE_PERCENT: "20" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("create a server, watch it come up, stop and start it, snapshot it, and destroy it by its name", async () => {
    const customer = await t.newAccount("50.00");
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, customer.accountId)}`);
    await page.getByLabel("New password").fill(PASSWORD);
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);

    await page.getByRole("link", { name: "Create server" }).click();
    await page.waitForURL(`${t.url}/servers/new`);
    assert.equal(await page.title(), "Create a server · VPS console");
    await page.getByLabel("Name", { exact: true }).fill("app-01");
    await page.getByLabel("Hostname").fill("app01.example.com");
    await page.getByLabel("Location").selectOption("eu-central");
    // htmx brings the plans of eu-central, Memory VPS among them.
    await page.locator("#plan_id option", { hasText: "Memory VPS" }).waitFor({ state: "attached" });
    await page.getByLabel("Plan").selectOption({ label: (await planLabel(page, "Standard VPS")) ?? "" });
    await page.getByLabel("Operating system or image").selectOption({ label: "Debian 12" });
    await page.getByLabel("Daily backups").check();
    await screenshot(page, "server-create.png");
    await page.getByRole("button", { name: "Create the server" }).click();

    await page.waitForURL(/\/servers\/\d+\?action=\d+$/);
    const serverId = Number(/\/servers\/(\d+)/.exec(page.url())?.[1]);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "app-01");
    await mark(page);
    const status = page.locator("#server-live [data-status]");
    await page.locator('#server-live [data-status="active"]').waitFor(LIVE_WAIT);
    assert.ok(await stillMarked(page), "the status turned active without a reload");
    const api = (await customer.get(`/api/v1/servers/${serverId}/`)).body;
    assert.equal(
      (await page.locator("code[data-ssh]").textContent())?.trim(),
      `ssh root@${api.ssh.host} -p ${api.ssh.port}`,
    );
    assert.match(
      (await page.locator("main").textContent()) ?? "",
      new RegExp(api.ip_address.replaceAll(".", "\\.")),
    );
    assert.equal(await page.getByRole("button", { name: "Start" }).isDisabled(), true);

    await page.getByRole("button", { name: "Stop" }).click();
    await page.waitForURL(/\?action=\d+$/);
    await page.locator('#action[data-action-status="success"]').waitFor(LIVE_WAIT);
    await page.locator('#server-live [data-status="stopped"]').waitFor(LIVE_WAIT);

    await page.getByRole("button", { name: "Start" }).click();
    await page.waitForURL(/\?action=\d+$/);
    // The start's progress shows while it runs, then its end, on the page as it was loaded.
    await mark(page);
    const progress = page.locator('#action[data-action-status="running"]');
    await progress.waitFor(LIVE_WAIT);
    assert.match((await progress.textContent()) ?? "", /Start: under way/);
    assert.equal(await progress.locator("progress").isVisible(), true);
    await page.locator('#action[data-action-status="success"]').waitFor(LIVE_WAIT);
    assert.match((await page.locator("#action").textContent()) ?? "", /Start: done/);
    await page.locator('#server-live [data-status="active"]').waitFor(LIVE_WAIT);
    assert.ok(await stillMarked(page), "the progress and the status moved without a reload");
    assert.equal(await status.textContent(), "active");

    await page.getByLabel("Snapshot name").fill("before-upgrade");
    await page.getByRole("button", { name: "Take a snapshot" }).click();
    await page.waitForURL(/\?action=\d+$/);
    const row = page.locator("#server-images tr", { hasText: "before-upgrade" });
    await row.waitFor();
    await row.locator('[data-image-status="available"]').waitFor(LIVE_WAIT);
    const cells = (await row.locator("th, td").allInnerTexts()).map((c) => c.trim());
    assert.deepEqual(cells.slice(0, 3), ["before-upgrade", "snapshot", "available"]);
    await screenshot(page, "server.png");

    // At a phone's width nothing is wider than the screen.
    await page.setViewportSize({ width: 390, height: 800 });
    const pageWidth = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth,
    );
    assert.ok(pageWidth <= 390, `the page is ${pageWidth} px wide`);

    await page.getByLabel("Type app-01 to confirm").fill("app-0");
    await page.getByRole("button", { name: "Destroy this server" }).click();
    await page.getByRole("alert").filter({ hasText: "Type the server's exact name" }).waitFor();
    await page.getByLabel("Type app-01 to confirm").fill("app-01");
    await page.getByRole("button", { name: "Destroy this server" }).click();
    await page.waitForURL(`${t.url}/servers`);
    assert.doesNotMatch((await page.locator("main").textContent()) ?? "", /app-01/);
    assert.equal((await customer.get(`/api/v1/servers/${serverId}/`)).status, 404);
    await context.close();
  });
});

/** The full text of the plan option whose label starts with `name`. */
async function planLabel(page: Page, name: string): Promise<string | null> {
  return page.locator("#plan_id option", { hasText: name }).first().textContent();
}
