import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { client, eventually, SAMPLE_CREATE } from "../support/client.ts";
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

async function signIn(page: Page, url: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${url}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function sessionCookie(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((c) => c.name === "vps_session")?.value;
}

describe("web console in a browser", { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  before(async () => {
    // Long enough transitions that a new server is seen on its way to active.
    t = await startTestApp({ VPS_SIM_DELAY_MS: "1500" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("invitation, password, sign-in, and a server made through the API turns active without a reload", async () => {
    const email = "ana@example.com";
    const made = await t.admin.post("/api/v1/admin/accounts/", { email, credit: "50.00" });
    const customer = Object.assign(client(t.url, made.body.api_token), { accountId: made.body.id as number });
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    const page = await context.newPage();

    await page.goto(`${t.url}${await invitationPath(t, customer.accountId)}`);
    assert.equal(await page.title(), "Set your password · VPS console");
    await page.getByLabel("New password").fill(PASSWORD);
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${t.url}/sign-in`);
    await screenshot(page, "sign-in.png");

    await signIn(page, t.url, email);
    await page.waitForURL(`${t.url}/servers`);
    assert.equal(await page.locator("html").getAttribute("lang"), "en");
    assert.match((await page.locator("header").textContent()) ?? "", new RegExp(email.replace(".", "\\.")));
    await page.evaluate(() => {
      (globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });

    const created = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "db-primary" });
    assert.equal(created.status, 201);
    const row = page.locator(`tr[data-server-id="${created.body.id}"]`);
    await row.waitFor();
    await page
      .locator(`tr[data-server-id="${created.body.id}"] [data-status="active"]`)
      .waitFor({ timeout: 30_000 });
    const server = (await customer.get(`/api/v1/servers/${created.body.id}/`)).body;
    const cells = (await row.locator("th, td").allInnerTexts()).map((c) => c.trim());
    assert.deepEqual(
      [cells[0], cells[1], cells[2], cells[4]],
      ["db-primary", "active", server.ip_address, "us-west"],
    );
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce),
      true,
      "the page was not reloaded",
    );
    await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "web-frontend" });
    await page
      .locator("tr", { hasText: "web-frontend" })
      .locator('[data-status="active"]')
      .waitFor({ timeout: 30_000 });
    await screenshot(page, "servers.png");

    // The browser's cookie is not an API credential.
    const api = await context.request.get(`${t.url}/api/v1/servers/`);
    assert.equal(api.status(), 401);
    await context.close();
  });

  it("the cookie from before sign-in is not the session's (no fixation)", async () => {
    const customer = await t.newAccount();
    const email = (await t.admin.get(`/api/v1/admin/accounts/${customer.accountId}/`)).body.email;
    const setup = await browser.newContext();
    const setupPage = await setup.newPage();
    await setupPage.goto(`${t.url}${await invitationPath(t, customer.accountId)}`);
    await setupPage.getByLabel("New password").fill(PASSWORD);
    await setupPage.getByRole("button", { name: "Set the password and sign in" }).click();
    await setupPage.waitForURL(`${t.url}/servers`);
    await setup.close();

    const context = await browser.newContext();
    const planted = "P".repeat(43);
    await context.addCookies([{ name: "vps_session", value: planted, url: t.url }]);
    const page = await context.newPage();
    await signIn(page, t.url, email);
    await page.waitForURL(`${t.url}/servers`);
    const after = await sessionCookie(context);
    assert.ok(after);
    assert.notEqual(after, planted);

    const attacker = await browser.newContext();
    await attacker.addCookies([{ name: "vps_session", value: planted, url: t.url }]);
    const attackerPage = await attacker.newPage();
    await attackerPage.goto(`${t.url}/servers`);
    assert.equal(attackerPage.url(), `${t.url}/sign-in`);
    await Promise.all([context.close(), attacker.close()]);
  });

  it("sign out everywhere ends another browser's session; another account's servers are never shown", async () => {
    const alice = await t.newAccount();
    const aliceEmail = (await t.admin.get(`/api/v1/admin/accounts/${alice.accountId}/`)).body.email;
    await alice.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "alice-only" });
    const laptop = await browser.newContext();
    const phone = await browser.newContext({ viewport: { width: 390, height: 800 } });
    const laptopPage = await laptop.newPage();
    await laptopPage.goto(`${t.url}${await invitationPath(t, alice.accountId)}`);
    await laptopPage.getByLabel("New password").fill(PASSWORD);
    await laptopPage.getByRole("button", { name: "Set the password and sign in" }).click();
    await laptopPage.waitForURL(`${t.url}/servers`);
    const phonePage = await phone.newPage();
    await signIn(phonePage, t.url, aliceEmail);
    await phonePage.waitForURL(`${t.url}/servers`);
    assert.match((await phonePage.locator("main").textContent()) ?? "", /alice-only/);

    const bob = await t.newAccount();
    const bobContext = await browser.newContext();
    const bobPage = await bobContext.newPage();
    await bobPage.goto(`${t.url}${await invitationPath(t, bob.accountId)}`);
    await bobPage.getByLabel("New password").fill(PASSWORD);
    await bobPage.getByRole("button", { name: "Set the password and sign in" }).click();
    await bobPage.waitForURL(`${t.url}/servers`);
    assert.doesNotMatch((await bobPage.locator("main").textContent()) ?? "", /alice-only/);
    assert.match((await bobPage.locator("main").textContent()) ?? "", /No servers yet/);

    await laptopPage.getByRole("link", { name: "Account" }).click();
    await laptopPage.waitForURL(`${t.url}/account`);
    assert.equal(await laptopPage.locator("main table tbody tr").count(), 2, "two browsers signed in");
    await laptopPage.getByRole("button", { name: "Sign out everywhere" }).click();
    await laptopPage.waitForURL(`${t.url}/sign-in`);

    // The phone's open page finds itself signed out: its next poll is sent to the sign-in page.
    await eventually(
      async () => (phonePage.url() === `${t.url}/sign-in` ? true : undefined),
      15_000,
      "the phone to be signed out",
    );
    await phonePage.goto(`${t.url}/account`);
    assert.equal(phonePage.url(), `${t.url}/sign-in`);
    assert.match(
      await bobPage.reload().then(() => bobPage.url()),
      /\/servers$/,
      "another account's session stays",
    );
    await Promise.all([laptop.close(), phone.close(), bobContext.close()]);
  });

  it("wrong passwords are refused, then throttled", async () => {
    const throttled = await startTestApp({ VPS_SIGNIN_FAILURE_LIMIT: "2" });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      for (let i = 0; i < 2; i++) {
        await signIn(page, throttled.url, "owner@localhost", `not the password ${i}`);
        await page.getByRole("alert").filter({ hasText: "The email or the password is wrong." }).waitFor();
      }
      await signIn(page, throttled.url, "owner@localhost", "still not the password");
      await page
        .getByRole("alert")
        .filter({ hasText: /Too many failed sign-ins/ })
        .waitFor();
    } finally {
      await context.close();
      await throttled.close();
    }
  });
});
