import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { client } from "../support/client.ts";
import { makeKeyPair } from "../support/ssh.ts";
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

/** Sets the account's password through an invitation, which signs the page in. */
async function acceptInvitation(page: Page, t: TestApp, accountId: number): Promise<void> {
  await page.goto(`${t.url}${await invitationPath(t, accountId)}`);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByRole("button", { name: "Set the password and sign in" }).click();
  await page.waitForURL(`${t.url}/servers`);
}

/** What the API answers a token: a request the test makes itself, as a program would. */
async function serversStatus(t: TestApp, token: string): Promise<number> {
  const res = await fetch(`${t.url}/api/v1/servers/`, { headers: { authorization: `Bearer ${token}` } });
  return res.status;
}

describe("web console in a browser: SSH keys, API tokens, account", { skip: browserSkip() }, () => {
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

  it("adds an SSH key, then deletes it after confirming", async () => {
    const made = await t.admin.post("/api/v1/admin/accounts/", {
      email: "keys@example.com",
      credit: "20.00",
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    const page = await context.newPage();
    await acceptInvitation(page, t, made.body.id);

    await page.getByRole("link", { name: "SSH keys" }).click();
    await page.waitForURL(`${t.url}/ssh-keys`);
    await page.getByLabel("Public key").fill("ssh-rsa AAAA");
    await page.getByLabel("Name").fill("broken");
    await page.getByRole("button", { name: "Add the key" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /public_key: .*\(invalid_input\)/ })
      .waitFor();

    for (const name of ["laptop", "build server"]) {
      await page.getByLabel("Name").fill(name);
      await page.getByLabel("Public key").fill((await makeKeyPair()).publicKey);
      await page.getByRole("button", { name: "Add the key" }).click();
      await page.locator("tbody th", { hasText: name }).waitFor();
    }
    const api = client(t.url, made.body.api_token);
    assert.deepEqual(
      (await api.get("/api/v1/ssh-keys/")).body.results.map((k: { name: string }) => k.name),
      ["laptop", "build server"],
    );
    const rows = page.locator("table.keys tbody tr");
    assert.equal(await rows.count(), 2);
    assert.match((await rows.first().textContent()) ?? "", /laptop\s+SHA256:\S+\s+ssh-ed25519 \(256 bits\)/);
    await screenshot(page, "ssh-keys.png");

    await page.getByRole("link", { name: "Delete the key laptop" }).click();
    await page.getByRole("heading", { name: "Delete the SSH key “laptop”?" }).waitFor();
    await page.getByRole("button", { name: "Delete the key" }).click();
    await page.waitForURL(`${t.url}/ssh-keys`);
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? "", /build server/);
    assert.equal((await api.get("/api/v1/ssh-keys/")).body.count, 1);
    await context.close();
  });

  it("creates a token shown once, copies it, calls the API with it, revokes it and sees the API refuse it", async () => {
    const made = await t.admin.post("/api/v1/admin/accounts/", {
      email: "tokens@example.com",
      credit: "20.00",
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
    const page = await context.newPage();
    await acceptInvitation(page, t, made.body.id);

    await page.getByRole("link", { name: "API tokens" }).click();
    await page.waitForURL(`${t.url}/api-tokens`);
    await page.getByLabel("Name").fill("ci deploys");
    await page.getByRole("button", { name: "Create the token" }).click();
    await page.getByRole("heading", { name: "Your new API token “ci deploys”" }).waitFor();
    const token = await page.getByLabel("API token").inputValue();
    assert.match(token, /^vps_/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("status").filter({ hasText: "Copied." }).waitFor();
    assert.equal(await page.evaluate<string>("navigator.clipboard.readText()"), token);
    await screenshot(page, "api-token-created.png");

    assert.equal(await serversStatus(t, token), 200);

    await page.getByRole("link", { name: "Back to your API tokens" }).click();
    await page.waitForURL(`${t.url}/api-tokens`);
    assert.ok(!(await page.content()).includes(token), "the list never shows the token again");
    const row = page.locator("table.tokens tbody tr", { hasText: "ci deploys" });
    assert.match((await row.textContent()) ?? "", /Active/);
    await screenshot(page, "api-tokens.png");

    await page.getByRole("link", { name: "Revoke the token ci deploys" }).click();
    await page.getByRole("heading", { name: "Revoke the API token “ci deploys”?" }).waitFor();
    await page.getByRole("button", { name: "Revoke the token" }).click();
    await page.waitForURL(`${t.url}/api-tokens`);
    assert.match((await row.textContent()) ?? "", /Revoked/);
    assert.equal(await serversStatus(t, token), 401);
    await context.close();
  });

  it("changing the password on a phone signs out the other browser", async () => {
    const made = await t.admin.post("/api/v1/admin/accounts/", {
      email: "phone@example.com",
      credit: "42.50",
    });
    const laptop = await browser.newContext();
    const laptopPage = await laptop.newPage();
    await acceptInvitation(laptopPage, t, made.body.id);

    const phone = await browser.newContext({ viewport: { width: 390, height: 800 } });
    const page = await phone.newPage();
    await page.goto(`${t.url}/sign-in`);
    await page.getByLabel("Email").fill("phone@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
    await page.getByRole("link", { name: "Account" }).click();
    await page.waitForURL(`${t.url}/account`);
    assert.equal(await page.locator("[data-balance]").textContent(), "42.50 USD");
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    assert.ok(width <= 390, `the page fits a phone's width (${width} px)`);

    await page.getByLabel("Current password").fill("not my password");
    await page.getByLabel("New password").fill("an even better passphrase");
    await page.getByRole("button", { name: "Change the password" }).click();
    await page.getByRole("alert").filter({ hasText: "This is not the account's password." }).waitFor();
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password").fill("an even better passphrase");
    await page.getByRole("button", { name: "Change the password" }).click();
    await page.getByRole("status").filter({ hasText: "Your password was changed" }).waitFor();
    assert.equal(await page.locator("main table tbody tr").count(), 1, "only this browser is signed in");
    await screenshot(page, "account.png");

    await laptopPage.goto(`${t.url}/account`);
    assert.equal(laptopPage.url(), `${t.url}/sign-in`);
    await Promise.all([laptop.close(), phone.close()]);
  });
});
