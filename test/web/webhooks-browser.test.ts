import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startAppWithReceiver } from "../support/app-with-receiver.ts";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import type { TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";
import { signatureVerifies, type WebhookReceiver } from "../support/webhook-receiver.ts";

const SCREENSHOTS = join(import.meta.dirname, "..", "..", "docs", "screenshots");

/** Only when asked (VPS_UPDATE_SCREENSHOTS=1), so that a test run leaves the tree as it was. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.VPS_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

describe("web console in a browser: webhooks", { skip: browserSkip() }, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let browser: Browser;
  before(async () => {
    ({ t, receiver } = await startAppWithReceiver({
      VPS_WEBHOOK_RETRY_SCHEDULE_MS: "50",
    }));
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("adds an endpoint, copies its secret shown once, pings it, and redelivers a failed delivery", async () => {
    const made = await t.admin.post("/api/v1/admin/accounts/", {
      email: "hooks@example.com",
      credit: "20.00",
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
    const page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, made.body.id)}`);
    await page.getByLabel("New password").fill("correct horse battery");
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);

    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.waitForURL(`${t.url}/webhooks`);
    await page.getByText("No webhook endpoints yet.").waitFor();
    await page.getByLabel("URL").fill(receiver.url("/console"));
    await page.getByLabel("balance.low").uncheck();
    await page.getByRole("button", { name: "Add the endpoint" }).click();
    await page.getByRole("heading", { name: "Webhook endpoint added" }).waitFor();
    const secret = await page.getByLabel("Signing secret").inputValue();
    assert.match(secret, /^whsec_/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("status").filter({ hasText: "Copied." }).waitFor();
    assert.equal(await page.evaluate<string>("navigator.clipboard.readText()"), secret);

    await page.getByRole("link", { name: "Back to your webhooks" }).click();
    await page.waitForURL(`${t.url}/webhooks`);
    assert.ok(!(await page.content()).includes(secret), "the list never shows the secret again");
    const row = page.locator("table.webhooks tbody tr", { hasText: receiver.url("/console") });
    assert.match(
      (await row.textContent()) ?? "",
      /action\.finished, backup\.finished, server\.status_changed/,
    );
    assert.match((await row.textContent()) ?? "", /Enabled/);

    // The first ping is refused twice (its two attempts), then the receiver answers.
    receiver.answer = (hook) => (receiver.to(hook.path).length <= 2 ? 500 : 200);
    await row.getByRole("link").click();
    await page.getByRole("heading", { name: `Deliveries to ${receiver.url("/console")}` }).waitFor();
    await page.getByRole("button", { name: "Send a ping" }).click();
    const deliveries = page.locator("table.deliveries tbody tr");
    const failed = async () => {
      for (let i = 0; i < 100; i++) {
        if (/failed/.test((await deliveries.first().textContent()) ?? "")) return;
        await new Promise((r) => setTimeout(r, 100));
        await page.reload();
      }
      assert.fail("the ping's delivery never failed");
    };
    await failed();
    assert.match((await deliveries.first().textContent()) ?? "", /ping.*msg_\d+.*failed.*500, 500/s);
    const [first] = receiver.to("/console");
    assert.ok(first && signatureVerifies(secret, first));

    await page.getByRole("button", { name: /^Redeliver ping msg_/ }).click();
    for (let i = 0; i < 100 && !/succeeded/.test((await deliveries.first().textContent()) ?? ""); i++) {
      await new Promise((r) => setTimeout(r, 100));
      await page.reload();
    }
    const resent = (await deliveries.first().textContent()) ?? "";
    assert.match(resent, /ping.*\(sent again\).*succeeded.*200/s);
    assert.equal(await deliveries.count(), 2);
    assert.equal(receiver.to("/console")[2]?.headers["webhook-id"], first.headers["webhook-id"]);
    await screenshot(page, "webhooks.png");

    // A phone's width: the table scrolls within its card, the page does not.
    await page.setViewportSize({ width: 390, height: 800 });
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone`);
    await context.close();
  });
});
