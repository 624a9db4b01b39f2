import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { client } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor } from "../support/web-session.ts";

const TOKEN = /value="(vps_[A-Za-z0-9_-]{40})"/;

describe("web console: API tokens (raw HTTP)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  /** Creates a token on the page; the token read from the one answer that shows it. */
  async function create(browser: WebVisitor, name: string): Promise<{ token: string; page: string }> {
    await browser.get("/api-tokens");
    const res = await browser.post("/api-tokens", { name });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const page = await res.text();
    const token = TOKEN.exec(page)?.[1];
    assert.ok(token, page);
    return { token, page };
  }

  it("a created token is shown once, with a warning, and works against the API", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    const { token, page } = await create(browser, "ci <deploys>");
    assert.match(page, /Your new API token “ci &lt;deploys&gt;”/);
    assert.match(page, /shown only this once/);
    assert.match(page, /<button type="button" data-copy="new-token" hidden>Copy<\/button>/);
    assert.match(page, /<script src="\/assets\/copy-button\.js\?v=[0-9a-f]{12}" defer><\/script>/);

    const api = client(t.url, token);
    assert.equal((await api.get("/api/v1/servers/")).status, 200);
    assert.equal((await api.get("/api/v1/account/")).body.id, customer.accountId);

    const list = await browser.get("/api-tokens");
    const listed = await list.text();
    assert.match(listed, /ci &lt;deploys&gt;/);
    assert.match(listed, /default/, "the account's first token is listed too");
    assert.ok(!listed.includes(token), "the list never shows a token");
    assert.doesNotMatch(listed, /vps_/);
    const id = (await customer.get("/api/v1/account/tokens/")).body.results[0].id;
    assert.ok(!(await (await browser.get(`/api-tokens/${id}/revoke`)).text()).includes(token));
  });

  it("a refused name is shown on the form and creates nothing; a forged form creates nothing", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    await browser.get("/api-tokens");
    const blank = await browser.post("/api-tokens", { name: "   " });
    assert.equal(blank.status, 400);
    const text = await blank.text();
    assert.match(text, /role="alert">name: Must be 1-100 characters\. \(invalid_input\)/);
    assert.doesNotMatch(text, /vps_/);
    assert.equal((await browser.post("/api-tokens", { name: "x", _csrf: "forged" })).status, 403);
    assert.equal((await customer.get("/api/v1/account/tokens/")).body.count, 1);
  });

  it("a token revoked after the confirmation page is refused by the API at once", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    const { token } = await create(browser, "laptop");
    const api = client(t.url, token);
    const id = (await customer.get("/api/v1/account/tokens/")).body.results[0].id;

    const confirm = await browser.get(`/api-tokens/${id}/revoke`);
    assert.equal(confirm.status, 200);
    assert.match(await confirm.text(), /Revoke the API token “laptop”\?/);
    assert.equal((await api.get("/api/v1/servers/")).status, 200, "asking revokes nothing");
    assert.equal((await browser.post(`/api-tokens/${id}/revoke`, { _csrf: "forged" })).status, 403);
    assert.equal((await api.get("/api/v1/servers/")).status, 200);

    const revoked = await browser.post(`/api-tokens/${id}/revoke`, {});
    assert.equal(revoked.status, 303);
    assert.equal(revoked.headers.get("location"), "/api-tokens");
    const refused = await api.get("/api/v1/servers/");
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.code, "unauthorized");
    assert.match(await (await browser.get("/api-tokens")).text(), /Revoked <time/);
    assert.match(await (await browser.get(`/api-tokens/${id}/revoke`)).text(), /It was revoked/);
    assert.equal((await browser.post(`/api-tokens/${id}/revoke`, {})).status, 404, "revoked already");
    assert.equal((await customer.get("/api/v1/servers/")).status, 200, "the other token still works");
  });

  it("another account's token is a 404 to look at or revoke, and keeps working", async () => {
    const alice = await t.newAccount();
    const aliceToken = (await alice.post("/api/v1/account/tokens/", { name: "alice-only-token" })).body;
    const bob = await signedInVisitor(t, (await t.newAccount()).accountId);
    assert.doesNotMatch(await (await bob.get("/api-tokens")).text(), /alice-only-token/);
    const look = await bob.get(`/api-tokens/${aliceToken.id}/revoke`);
    assert.equal(look.status, 404);
    assert.match(await look.text(), /Token not found/);
    assert.equal((await bob.post(`/api-tokens/${aliceToken.id}/revoke`, {})).status, 404);
    assert.equal((await client(t.url, aliceToken.api_token).get("/api/v1/servers/")).status, 200);
  });

  it("the copy script is served from /assets/, as our own file", async () => {
    const page = await (
      await (await signedInVisitor(t, (await t.newAccount()).accountId)).get("/api-tokens")
    ).text();
    assert.doesNotMatch(page, /copy-button/, "only the page that shows a token loads it");
    const res = await fetch(`${t.url}/assets/copy-button.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(await res.text(), /navigator\.clipboard\.writeText/);
  });
});
