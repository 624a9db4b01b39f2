import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { type Client, client, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const PASSWORD = "correct horse battery";
const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");
const CAPACITY = { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 };
const REPORT = { capacity: CAPACITY, agent_version: "0.1.0", driver: "sim" };

/** Only when asked (VPS_UPDATE_SCREENSHOTS=1), so that a test run leaves the tree as it was. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.VPS_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

// Two hosts of one location whose agents are this test, through the agent API (no embedded host): a drain of one
// has somewhere to move its server to.
describe("operator pages in a browser", { skip: browserSkip() }, () => {
  let t: TestApp;
  let browser: Browser;
  before(async () => {
    t = await startTestApp({ VPS_EMBEDDED_HOSTS: "off", VPS_HOST_DOWN_AFTER_MS: "3600000" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function joinedHost(name: string): Promise<{ id: number; agent: Client }> {
    const registered = await t.admin.post("/api/v1/admin/hosts/", { name, location: "us-west" });
    assert.equal(registered.status, 201, registered.text);
    const joined = await t.anonymous.post("/api/v1/agent/join", {
      join_token: registered.body.join_token,
      ...REPORT,
    });
    assert.equal(joined.status, 201, joined.text);
    const agent = client(t.url, joined.body.credential);
    const beat = await agent.post("/api/v1/agent/heartbeat", {
      ...REPORT,
      transfer_url: `http://10.0.0.${registered.body.host.id}:9443`,
    });
    assert.equal(beat.status, 200, beat.text);
    return { id: registered.body.host.id, agent };
  }

  /** The agent claims its host's create and reports the machine made: the server turns active. */
  async function runCreate(host: { agent: Client }): Promise<void> {
    const claimed = await host.agent.post("/api/v1/agent/operations/claim", { limit: 10, wait_seconds: 5 });
    const op = claimed.body.operations.find((o: Json) => o.kind === "create");
    assert.ok(op, claimed.text);
    const ended = await host.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      outcome: {},
    });
    assert.equal(ended.status, 200, ended.text);
  }

  it("an operator signs in, adds credit to a customer and drains a host of two, and sees it draining", async () => {
    const a = await joinedHost("hv-a");
    const b = await joinedHost("hv-b");
    const customerEmail = "ana@example.com";
    const made = await t.admin.post("/api/v1/admin/accounts/", { email: customerEmail, credit: "20.00" });
    const customer = client(t.url, made.body.api_token);
    const created = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "db-1" });
    assert.equal(created.status, 201, created.text);
    const placed = (await t.app.services.repos.servers.findById(created.body.id))?.host_id;
    const [from, to] = placed === a.id ? [a, b] : [b, a];
    await runCreate(from);
    assert.equal((await customer.get(`/api/v1/servers/${created.body.id}/`)).body.status, "active");

    assert.equal((await t.admin.post("/api/v1/admin/accounts/1/operator/")).status, 200);
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, 1)}`);
    await page.getByLabel("New password").fill(PASSWORD);
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${t.url}/sign-in`);
    await page.getByLabel("Email").fill("owner@localhost");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);

    await page.getByRole("link", { name: "Operator" }).click();
    await page.waitForURL(`${t.url}/admin/accounts`);
    await screenshot(page, "operator-accounts.png");
    await page.getByRole("link", { name: customerEmail }).click();
    await page.getByLabel("Amount (USD)").fill("1000000000.00");
    await page.getByRole("button", { name: "Add credit" }).click();
    assert.match(
      (await page.getByRole("alert").textContent()) ?? "",
      /The balance must stay within -1000000000\.00 and 1000000000\.00\. amount_out_of_range/,
    );
    // Creating the server charged its first hour already: the credit is added to what is left.
    const cents = async () => Math.round(Number((await customer.get("/api/v1/account/")).body.balance) * 100);
    const before = await cents();
    await page.getByLabel("Amount (USD)").fill("30.00");
    await page.getByRole("button", { name: "Add credit" }).click();
    const expected = `${((before + 3000) / 100).toFixed(2)} USD`;
    await page.locator("[data-balance]", { hasText: expected }).waitFor();
    assert.equal(await cents(), before + 3000);
    await screenshot(page, "operator-account.png");

    await page.getByRole("navigation", { name: "Operator" }).getByRole("link", { name: "Hosts" }).click();
    await page.waitForURL(`${t.url}/admin/hosts`);
    const source = page.locator(`[data-host-id="${from.id}"]`);
    assert.equal(await source.locator("[data-state]").textContent(), "enabled");
    await source.getByRole("button", { name: "Drain" }).click();
    await page.getByRole("heading", { name: /is draining/ }).waitFor();
    assert.match(
      (await page.getByRole("status").textContent()) ?? "",
      /1 server is being migrated to other hosts\./,
    );
    assert.equal(await page.locator(`[data-host-id="${from.id}"] [data-state]`).textContent(), "draining");
    assert.equal(await page.locator(`[data-host-id="${to.id}"] [data-state]`).textContent(), "enabled");
    // The drain asked for the server's move to the other host: it holds the server's room now.
    const target = (await t.admin.get(`/api/v1/admin/hosts/${to.id}/`)).body;
    assert.equal(target.server_count, 1);
    await screenshot(page, "operator-hosts.png");

    const sections: [string, string][] = [
      ["Plans and images", "operator-catalogue.png"],
      ["Locations and pools", "operator-locations.png"],
      ["Failed actions", "operator-failed-actions.png"],
    ];
    for (const [section, file] of sections) {
      await page.getByRole("navigation", { name: "Operator" }).getByRole("link", { name: section }).click();
      await page.getByRole("heading", { level: 1 }).waitFor();
      await screenshot(page, file);
    }

    // At a phone's width, nothing is wider than the screen but the tables, which scroll in their frames.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${t.url}/admin/hosts`);
    const overflow = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
          .documentElement.scrollWidth,
    );
    assert.ok(overflow <= 390, `the page is ${overflow} px wide`);
    await screenshot(page, "operator-hosts-phone.png");
    await context.close();
  });

  it("a customer's browser gets a 404 at /admin and has no Operator link", async () => {
    const customer = await t.newAccount();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, customer.accountId)}`);
    await page.getByLabel("New password").fill(PASSWORD);
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
    assert.equal(await page.getByRole("link", { name: "Operator" }).count(), 0);
    const res = await page.goto(`${t.url}/admin/accounts`);
    assert.equal(res?.status(), 404);
    assert.equal(await page.title(), "Not found · VPS console");
    await context.close();
  });
});
