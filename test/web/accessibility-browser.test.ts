import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { invitationPath } from "../support/web-session.ts";

const PHONE = 390;

/** What a page must have for a person on a phone, or with the keyboard or a screen reader. */
interface Findings {
  lang: string | null;
  title: string;
  h1: number;
  overflow: number;
  unlabelled: string[];
  unnamedButtons: string[];
  unreachable: string[];
}

/**
 * Reads the page as the browser lays it out: every visible control named, nothing wider than the screen. Plain
 * JavaScript run in the page (the project's TypeScript knows no DOM).
 */
const INSPECT = `(() => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const describe = (el) => el.outerHTML.slice(0, 120);
  const controls = [...document.querySelectorAll("input, select, textarea")].filter(
    (el) => el.type !== "hidden" && visible(el),
  );
  const named = (el) => Boolean((el.labels?.length ?? 0) > 0 || el.getAttribute("aria-label") ||
    el.getAttribute("aria-labelledby") || el.getAttribute("title"));
  const buttons = [...document.querySelectorAll("button, a[href]")].filter(visible);
  return {
    lang: document.documentElement.getAttribute("lang"),
    title: document.title,
    h1: document.querySelectorAll("h1").length,
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    unlabelled: controls.filter((el) => !named(el)).map(describe),
    unnamedButtons: buttons.filter((el) => !(el.textContent ?? "").trim() && !el.getAttribute("aria-label")).map(describe),
    unreachable: [...controls, ...buttons].filter((el) => el.tabIndex < 0 && !el.closest(".xterm")).map(describe),
  };
})()`;

function inspect(page: Page): Promise<Findings> {
  return page.evaluate(INSPECT) as Promise<Findings>;
}

/**
 * Every page of the console, customer's and operator's, at a phone's width: a language, a title and a heading;
 * nothing wider than the screen; every visible input, select and text area with a label; every button and link
 * with a name; every control reachable with the keyboard.
 */
describe("the console's pages fit a phone and are usable with the keyboard and a screen reader", {
  skip: browserSkip(),
}, () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let serverId: number;
  before(async () => {
    t = await startTestApp();
    browser = await launchBrowser();
    // The first account is an operator: it sees the customer's pages and the operator's.
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "phone-1" });
    assert.equal(created.status, 201, created.text);
    serverId = created.body.id;
    await waitForStatus(t.owner, serverId, "active");
    const context = await browser.newContext({ viewport: { width: PHONE, height: 800 } });
    page = await context.newPage();
    await page.goto(`${t.url}${await invitationPath(t, 1)}`);
    await page.getByLabel("New password").fill("correct horse battery");
    await page.getByRole("button", { name: "Set the password and sign in" }).click();
    await page.waitForURL(`${t.url}/servers`);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  const pages = () => [
    "/servers",
    "/servers/new",
    `/servers/${serverId}`,
    `/servers/${serverId}/graphs`,
    `/servers/${serverId}/console`,
    "/ssh-keys",
    "/api-tokens",
    "/webhooks",
    "/billing",
    "/account",
    "/admin/accounts",
    "/admin/accounts/1",
    "/admin/hosts",
    "/admin/catalogue",
    "/admin/locations",
    "/admin/failed-actions",
    "/admin/revenue",
  ];

  it("every page: a language, a title, one main heading, no sideways scrolling, named and reachable controls", async () => {
    for (const path of pages()) {
      const res = await page.goto(`${t.url}${path}`);
      assert.equal(res?.status(), 200, path);
      await page.waitForLoadState("networkidle");
      const found = await inspect(page);
      assert.equal(found.lang, "en", `${path}: <html lang>`);
      assert.ok(found.title.endsWith("VPS console"), `${path}: title "${found.title}"`);
      assert.equal(found.h1, 1, `${path}: one h1`);
      assert.ok(found.overflow <= 1, `${path}: ${found.overflow} px wider than a ${PHONE} px screen`);
      assert.deepEqual(found.unlabelled, [], `${path}: controls without a label`);
      assert.deepEqual(found.unnamedButtons, [], `${path}: buttons or links without a name`);
      assert.deepEqual(found.unreachable, [], `${path}: controls out of the keyboard's reach`);
    }
  });

  it("the keyboard alone reaches the navigation and a page's first form field", async () => {
    await page.goto(`${t.url}/ssh-keys`);
    const focused: string[] = [];
    // Through the skip link and the navigation (its length grows with the console) to the page's form.
    for (let i = 0; i < 30 && !focused.includes("name"); i++) {
      await page.keyboard.press("Tab");
      const active = `document.activeElement?.textContent?.trim() || document.activeElement?.getAttribute("name") || ""`;
      focused.push(await page.evaluate<string>(active));
    }
    assert.ok(focused.includes("Servers"), focused.join(" | "));
    assert.ok(focused.includes("name"), `the key's name field is reached: ${focused.join(" | ")}`);
  });
});
