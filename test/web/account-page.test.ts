import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, webVisitor } from "../support/web-session.ts";

const OLD = "correct horse battery";
const NEW = "a brand new passphrase";

describe("web console: the account page (raw HTTP)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_SIGNIN_FAILURE_LIMIT: "3" });
  });
  after(() => t.close());

  async function emailOf(accountId: number): Promise<string> {
    return (await t.admin.get(`/api/v1/admin/accounts/${accountId}/`)).body.email;
  }

  async function signIn(email: string, password: string) {
    const visitor = webVisitor(t.url);
    await visitor.get("/sign-in");
    return { visitor, res: await visitor.post("/sign-in", { email, password }) };
  }

  it("shows the balance with its currency", async () => {
    const customer = await t.newAccount("12.34");
    const page = await (await (await signedInVisitor(t, customer.accountId)).get("/account")).text();
    assert.match(page, /<dd data-balance>12\.34 USD<\/dd>/);
  });

  it("a password change needs the current password, and signs out every other browser", async () => {
    const customer = await t.newAccount();
    const email = await emailOf(customer.accountId);
    const laptop = await signedInVisitor(t, customer.accountId, OLD);
    const { visitor: phone } = await signIn(email, OLD);
    assert.equal((await phone.get("/account")).status, 200);
    await laptop.get("/account");

    const wrong = await laptop.post("/account/password", {
      current_password: "not it at all",
      new_password: NEW,
    });
    assert.equal(wrong.status, 400);
    assert.match(
      await wrong.text(),
      /current_password: This is not the account&#39;s password\. \(invalid_input\)/,
    );
    const short = await laptop.post("/account/password", { current_password: OLD, new_password: "short" });
    assert.equal(short.status, 400);
    assert.match(await short.text(), /password: Must be 10 to 256 characters long\./);
    assert.equal((await phone.get("/account")).status, 200, "refused changes sign nobody out");

    const before = laptop.cookie;
    const changed = await laptop.post("/account/password", { current_password: OLD, new_password: NEW });
    assert.equal(changed.status, 303);
    assert.equal(changed.headers.get("location"), "/account?password=changed");
    assert.notEqual(laptop.cookie, before, "this browser goes on under a new session id");
    const after = await laptop.get("/account?password=changed");
    assert.equal(after.status, 200);
    assert.match(await after.text(), /Your password was changed/);

    const phonePage = await phone.get("/account");
    assert.equal(phonePage.status, 303, "the other browser is signed out");
    assert.equal(phonePage.headers.get("location"), "/sign-in");
    const old = await fetch(`${t.url}/account`, {
      headers: { cookie: `vps_session=${before}` },
      redirect: "manual",
    });
    assert.equal(old.status, 303, "the old session id is worth nothing");

    assert.equal((await signIn(email, OLD)).res.status, 401);
    assert.equal((await signIn(email, NEW)).res.status, 303);
    assert.equal((await customer.get("/api/v1/servers/")).status, 200, "API tokens keep working");
  });

  it("a forged password form changes nothing", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId, OLD);
    await browser.get("/account");
    const res = await browser.post("/account/password", {
      current_password: OLD,
      new_password: NEW,
      _csrf: "x",
    });
    assert.equal(res.status, 403);
    assert.equal((await signIn(await emailOf(customer.accountId), OLD)).res.status, 303);
  });

  it("wrong current passwords are throttled like wrong sign-ins", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId, OLD);
    await browser.get("/account");
    for (let i = 0; i < 3; i++) {
      const res = await browser.post("/account/password", {
        current_password: `guess ${i} wrong`,
        new_password: NEW,
      });
      assert.equal(res.status, 400);
    }
    const right = await browser.post("/account/password", { current_password: OLD, new_password: NEW });
    assert.equal(right.status, 429);
    assert.ok(Number(right.headers.get("retry-after")) >= 1);
    assert.equal(
      (await signIn(await emailOf(customer.accountId), OLD)).res.status,
      429,
      "sign-in is refused too",
    );
  });
});
