import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor } from "../support/web-session.ts";

const PAGES = ["/servers", "/ssh-keys", "/api-tokens", "/webhooks", "/billing", "/account"];

/** The banner of the page, its text without tags; undefined when there is none. */
function banner(page: string): { kind: string; text: string } | undefined {
  const match = /<p class="balance-banner [^"]*"[^>]*data-balance-banner="([a-z]+)">([\s\S]*?)<\/p>/.exec(
    page,
  );
  if (!match) return undefined;
  return { kind: match[1] ?? "", text: (match[2] ?? "").replace(/<[^>]+>/g, "").replace(/&#39;/g, "'") };
}

describe("web console: the low-balance banner and threshold (raw HTTP)", { concurrency: true }, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_LOW_BALANCE_THRESHOLD: "5.00" });
  });
  after(() => t.close());

  async function bannerOn(browser: WebVisitor, path: string) {
    const res = await browser.get(path);
    assert.equal(res.status, 200, path);
    return banner(await res.text());
  }

  it("warns on every page of an account below the default threshold, and on none of another's", async () => {
    const low = await t.newAccount("3.00");
    const fine = await t.newAccount("50.00");
    const lowBrowser = await signedInVisitor(t, low.accountId);
    const fineBrowser = await signedInVisitor(t, fine.accountId);
    for (const path of PAGES) {
      assert.deepEqual(await bannerOn(lowBrowser, path), {
        kind: "low",
        text:
          "Your balance is 3.00 USD, below your alert threshold 5.00 USD. Add credit to keep your servers " +
          "running. Billing · Change the threshold",
      });
      assert.equal(await bannerOn(fineBrowser, path), undefined, path);
    }
  });

  it("sets the account's own threshold from the account page, and an empty one follows the default again", async () => {
    const customer = await t.newAccount("50.00");
    const other = await t.newAccount("50.00");
    const browser = await signedInVisitor(t, customer.accountId);
    const account = await (await browser.get("/account")).text();
    assert.match(account, /<strong data-threshold>5\.00 USD<\/strong> \(the default\)/);

    const saved = await browser.post("/account/low-balance", { low_balance_threshold: "60" });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location"), "/account?threshold=saved#low-balance");
    const page = await (await browser.get("/account?threshold=saved")).text();
    assert.match(page, /Your alert threshold is now 60\.00 USD\./);
    assert.match(page, /<strong data-threshold>60\.00 USD<\/strong> every page/);
    assert.equal(
      banner(page)?.text.split(". ")[0],
      "Your balance is 50.00 USD, below your alert threshold 60.00 USD",
    );
    assert.equal((await customer.get("/api/v1/account/")).body.low_balance_threshold, "60.00");
    const billing = await (await browser.get("/billing")).text();
    assert.match(billing, /Alert threshold: <span data-threshold>60\.00 USD<\/span>\. /);

    const otherBrowser = await signedInVisitor(t, other.accountId);
    assert.equal(await bannerOn(otherBrowser, "/servers"), undefined, "another account keeps its threshold");

    assert.equal((await browser.post("/account/low-balance", { low_balance_threshold: "" })).status, 303);
    assert.equal(await bannerOn(browser, "/servers"), undefined);
    const api = (await customer.get("/api/v1/account/")).body;
    assert.equal(api.low_balance_threshold, "5.00");
    assert.equal(api.low_balance_threshold_source, "default");
    assert.match(
      await (await browser.get("/billing")).text(),
      /<span data-threshold>5\.00 USD<\/span> \(the default\)/,
    );
  });

  it("shows a refused threshold on the form with its code, and a forged form changes nothing", async () => {
    const customer = await t.newAccount("50.00");
    const browser = await signedInVisitor(t, customer.accountId);
    await browser.get("/account");
    const refused = await browser.post("/account/low-balance", { low_balance_threshold: "-1.00" });
    assert.equal(refused.status, 400);
    const page = await refused.text();
    assert.match(page, /<code class="code">invalid_input<\/code>/);
    assert.match(page, /<strong>low_balance_threshold<\/strong>: Must be an amount of at least 0/);
    assert.match(page, /value="-1\.00"/, "what was typed is shown again");
    const forged = await browser.post("/account/low-balance", { low_balance_threshold: "60.00", _csrf: "x" });
    assert.equal(forged.status, 403);
    const api = (await customer.get("/api/v1/account/")).body;
    assert.equal(api.low_balance_threshold_source, "default");
  });

  it("says more strongly that nothing is left at zero, and that the servers are suspended below it", async () => {
    const customer = await t.newAccount("0.00");
    const browser = await signedInVisitor(t, customer.accountId);
    // No threshold below zero spares the warning at zero.
    assert.equal((await customer.patch("/api/v1/account/", { low_balance_threshold: "0.00" })).status, 200);
    assert.deepEqual(await bannerOn(browser, "/servers"), {
      kind: "exhausted",
      text: "Your balance is 0.00 USD. The next hour charged suspends your servers. Add credit to keep them running. Billing",
    });
    const res = await t.admin.post(`/api/v1/admin/accounts/${customer.accountId}/credit/`, {
      amount: "-2.50",
      reason: "Hours of a server charged after its refund",
    });
    assert.equal(res.status, 200, res.text);
    const page = await (await browser.get("/billing")).text();
    assert.match(page, /role="alert" data-balance-banner="exhausted"/);
    assert.equal(
      banner(page)?.text,
      "Your balance is -2.50 USD. Your servers are suspended: add credit to bring it above zero, and they come " +
        "back stopped, ready to start. Billing",
    );
  });

  it("warns an operator of its own balance on the operator pages too", async () => {
    const operator = await t.newAccount("1.00");
    assert.equal((await t.admin.post(`/api/v1/admin/accounts/${operator.accountId}/operator/`)).status, 200);
    const browser = await signedInVisitor(t, operator.accountId);
    assert.equal((await bannerOn(browser, "/admin/accounts"))?.kind, "low");
  });
});
