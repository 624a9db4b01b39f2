import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { terminalShows } from "../support/browser-terminal.ts";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const PASSWORD = "correct horse battery";
const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

/** Only when asked (VPS_UPDATE_SCREENSHOTS=1), so that a test run leaves the tree as it was. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.VPS_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/** Signs a new browser page in as the account, its password set through an invitation. */
async function signedInPage(browser: Browser, t: TestApp, accountId: number, width = 1100): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${t.url}${await invitationPath(t, accountId)}`);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByRole("button", { name: "Set the password and sign in" }).click();
  await page.waitForURL(`${t.url}/servers`);
  return page;
}

describe("a server's serial console and usage graphs in a browser", { skip: browserSkip() }, () => {
  let t: TestApp;
  const clock = new SettableClock();
  let browser: Browser;
  before(async () => {
    t = await startTestApp({ VPS_CONSOLE_IDLE_MS: "4000" }, clock);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("the console shows the server's login prompt, takes what is typed, and reconnects after it closed idle", async () => {
    const customer = await t.newAccount();
    const made = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "web-1" });
    assert.equal(made.status, 201, made.text);
    await waitForStatus(customer, made.body.id, "active");
    const page = await signedInPage(browser, t, customer.accountId);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy/.test(message.text()))
        errors.push(message.text());
    });

    await page.goto(`${t.url}/servers/${made.body.id}/console`);
    assert.equal(await page.title(), "Console of web-1 · VPS console");
    await page.locator('#console-status[data-state="connected"]').waitFor();
    await terminalShows(page, /login:\s*$/);
    await page.locator("#terminal").click();
    await page.keyboard.type("root");
    await page.keyboard.press("Enter");
    const screen = await terminalShows(page, /Password:\s*$/);
    assert.match(screen, /login: root\s*\nPassword:/);
    await screenshot(page, "server-console.png");

    // Left idle, the control plane closes it (4000), and the page says why and offers to reconnect.
    const status = page.locator("#console-status");
    await page.locator('#console-status[data-state="closed"]').waitFor({ timeout: 20_000 });
    assert.match((await status.textContent()) ?? "", /nothing was typed or printed for a while/);
    await page.getByRole("button", { name: "Reconnect" }).click();
    await page.locator('#console-status[data-state="connected"]').waitFor();
    await page.keyboard.press("Enter");
    // The new console's prompt, and another one for the Enter typed into it.
    await terminalShows(page, /Password:[\s\S]*login:[\s\S]*login:\s*$/);
    assert.deepEqual(errors, [], "no script error and no CSP violation");
    await page.context().close();
  });

  it("a stopped server's console says so; another account's server is not found", async () => {
    const customer = await t.newAccount();
    const made = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "stopped-1" });
    await waitForStatus(customer, made.body.id, "active");
    await customer.post(`/api/v1/servers/${made.body.id}/stop/`);
    await waitForStatus(customer, made.body.id, "stopped");
    const page = await signedInPage(browser, t, customer.accountId, 390);
    await page.goto(`${t.url}/servers/${made.body.id}/console`);
    await page.locator('#console-status[data-state="refused"]').waitFor();
    assert.match((await page.locator("#console-status").textContent()) ?? "", /not running|stopped/i);
    assert.equal(await page.getByRole("button", { name: "Reconnect" }).isVisible(), true);

    const other = await t.newAccount();
    const theirs = await other.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "theirs" });
    const res = await page.goto(`${t.url}/servers/${theirs.body.id}/console`);
    assert.equal(res?.status(), 404);
    assert.equal(await page.locator("#terminal").count(), 0);
    await page.context().close();
  });

  it("the graphs page draws CPU, memory, disk and network in and out with uPlot, for the hour, the day and the week", async () => {
    const customer = await t.newAccount();
    const made = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "db-1" });
    await waitForStatus(customer, made.body.id, "active");
    // Usage history: a sample now, and another two hours on, so an hour has ended and is rolled up for the week.
    const { powerSync, usageRollup } = t.app.engine;
    await powerSync.syncOnce();
    clock.advance(2 * 3600_000);
    await powerSync.syncOnce();
    await usageRollup.runOnce();
    const page = await signedInPage(browser, t, customer.accountId);
    await page.goto(`${t.url}/servers/${made.body.id}/graphs`);
    assert.equal(await page.title(), "Usage of db-1 · VPS console");
    for (const range of ["Last hour", "Last day", "Last week"]) {
      await page.getByRole("button", { name: range }).click();
      assert.equal(await page.getByRole("button", { name: range }).getAttribute("aria-pressed"), "true");
      await page.locator(`#usage-graphs[data-range="${range.slice(5)}"]`).waitFor();
      for (const series of [
        "cpu",
        "memory.used",
        "disk.0.used",
        "network.0.bandwidth.in",
        "network.0.bandwidth.out",
      ]) {
        const graph = page.locator(`section.graph[data-series="${series}"]`);
        await graph.locator(".uplot canvas").waitFor();
        assert.ok(Number(await graph.getAttribute("data-points")) > 0, `${series} has points`);
        assert.match((await graph.locator(".latest").textContent()) ?? "", /^Latest: /);
      }
      assert.equal(await page.locator(".uplot canvas").count(), 5, "a graph for each series");
    }
    await page.getByRole("button", { name: "Last hour" }).click();
    await screenshot(page, "server-graphs.png");
    await page.context().close();
  });
});
