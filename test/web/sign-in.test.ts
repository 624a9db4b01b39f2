import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { spawnServer } from "../support/spawned-server.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";
import { signedInVisitor, webVisitor } from "../support/web-session.ts";

const PASSWORD = "correct horse battery";
const OWNER = 1;

describe("web console: invitations, sign-in and sessions (raw HTTP)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_SIGNIN_FAILURE_LIMIT: "3" });
  });
  after(() => t.close());

  it("an operator's invitation sets the password once, and signs the browser in under a new cookie", async () => {
    const res = await t.admin.post(`/api/v1/admin/accounts/${OWNER}/invitation/`);
    assert.equal(res.status, 201);
    assert.match(res.body.url, /^http:\/\/127\.0\.0\.1:\d+\/invite\/vps_[A-Za-z0-9_-]+$/);
    assert.ok(Date.parse(res.body.expires_at) > Date.now() + 71 * 3600_000);
    const path = new URL(res.body.url).pathname;

    const browser = webVisitor(t.url);
    const page = await browser.get(path);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /owner@localhost/);
    const before = browser.cookie;
    assert.ok(before, "a visitor gets a cookie before signing in");

    const short = await browser.post(path, { password: "short" });
    assert.equal(short.status, 400);
    assert.match(await short.text(), /10 to 256 characters/);

    const set = await browser.post(path, { password: PASSWORD });
    assert.equal(set.status, 303);
    assert.equal(set.headers.get("location"), "/servers");
    const cookie = set.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^vps_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    assert.notEqual(browser.cookie, before, "signing in makes a new session id");
    assert.equal((await browser.get("/servers")).status, 200);

    const again = webVisitor(t.url);
    const reused = await again.get(path);
    assert.equal(reused.status, 404);
    assert.match(await reused.text(), /unknown, already used, or expired/);
  });

  it("a cookie set before signing in (a fixation attempt) is never the session's", async () => {
    const fixed = "A".repeat(43);
    const browser = webVisitor(t.url);
    browser.cookie = fixed;
    await browser.get("/sign-in");
    const res = await browser.post("/sign-in", { email: "owner@localhost", password: PASSWORD });
    assert.equal(res.status, 303);
    assert.notEqual(browser.cookie, fixed);
    const attacker = webVisitor(t.url);
    attacker.cookie = fixed;
    const page = await attacker.get("/servers");
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/sign-in");
  });

  it("a form without the session's CSRF token, or with another's, is a 403; with it, it works", async () => {
    const browser = await signedInVisitor(t, (await t.newAccount()).accountId);
    const other = await signedInVisitor(t, (await t.newAccount()).accountId);
    await browser.get("/account");
    await other.get("/account");
    const endpoint = "/account/sign-out-everywhere";

    const missing = await browser.post(endpoint, { _csrf: "" });
    assert.equal(missing.status, 403);
    assert.match(await missing.text(), /reload the page/);
    assert.equal((await browser.post(endpoint, { _csrf: "wrong" })).status, 403);
    assert.equal((await browser.post(endpoint, { _csrf: other.csrf ?? "" })).status, 403);
    assert.equal((await browser.get("/servers")).status, 200, "still signed in after refused forms");

    // Sent as htmx sends it: in a header.
    const withHeader = await browser.post(endpoint, { _csrf: "" }, { "x-csrf-token": browser.csrf ?? "" });
    assert.equal(withHeader.status, 303);
    assert.equal((await browser.get("/servers")).status, 303, "signed out");

    // No cookie at all: nothing to check the token against.
    const bare = await fetch(`${t.url}/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `_csrf=${browser.csrf}&email=owner%40localhost&password=x`,
      redirect: "manual",
    });
    assert.equal(bare.status, 403);
  });

  it("pages take forms only; JSON is a 415, and the API still refuses forms", async () => {
    const browser = webVisitor(t.url);
    await browser.get("/sign-in");
    const json = await fetch(`${t.url}/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `vps_session=${browser.cookie}` },
      body: JSON.stringify({ _csrf: browser.csrf, email: "owner@localhost", password: PASSWORD }),
    });
    assert.equal(json.status, 415);
    const api = await t.owner.request("POST", "/api/v1/servers/", "name=x", {
      "content-type": "application/x-www-form-urlencoded",
    });
    assert.equal(api.status, 415);
  });

  it("a signed-in cookie never authenticates an API call", async () => {
    const browser = webVisitor(t.url);
    await browser.get("/sign-in");
    assert.equal(
      (await browser.post("/sign-in", { email: "owner@localhost", password: PASSWORD })).status,
      303,
    );
    for (const path of ["/api/v1/servers/", "/api/v1/account/", "/api/v1/admin/accounts/"]) {
      const res = await fetch(`${t.url}${path}`, { headers: { cookie: `vps_session=${browser.cookie}` } });
      assert.equal(res.status, 401, path);
    }
  });

  it("wrong passwords are throttled per account: past the limit even the right one is refused", async () => {
    const { accountId } = await t.newAccount();
    const email = (await t.admin.get(`/api/v1/admin/accounts/${accountId}/`)).body.email;
    await signedInVisitor(t, accountId, PASSWORD);
    const guesser = webVisitor(t.url);
    await guesser.get("/sign-in");
    for (let i = 0; i < 3; i++) {
      const wrong = await guesser.post("/sign-in", { email, password: `wrong password ${i}` });
      assert.equal(wrong.status, 401);
      assert.match(await wrong.text(), /The email or the password is wrong/);
    }
    const right = await guesser.post("/sign-in", { email, password: PASSWORD });
    assert.equal(right.status, 429);
    assert.ok(Number(right.headers.get("retry-after")) >= 1);
    assert.match(await right.text(), /Too many failed sign-ins/);
    // An unknown email is answered as a wrong password is.
    const unknown = await webVisitor(t.url).get("/sign-in");
    assert.equal(unknown.status, 200);
  });

  it("sign-out ends the session: its cookie no longer opens a page", async () => {
    const browser = await signedInVisitor(t, (await t.newAccount()).accountId);
    const old = browser.cookie;
    await browser.get("/servers");
    const res = await browser.post("/sign-out", {});
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/sign-in");
    const replay = await fetch(`${t.url}/servers`, {
      headers: { cookie: `vps_session=${old}` },
      redirect: "manual",
    });
    assert.equal(replay.status, 303);
  });

  it("another account's servers are not on a signed-in page", async () => {
    const alice = await t.newAccount();
    const created = await alice.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "alice-secret-box" });
    assert.equal(created.status, 201);
    await waitForStatus(alice, created.body.id, "active");
    const bob = await signedInVisitor(t, (await t.newAccount()).accountId);
    for (const path of ["/servers", "/servers/rows"]) {
      const page = await bob.get(path);
      assert.equal(page.status, 200);
      assert.doesNotMatch(await page.text(), /alice-secret-box/, path);
    }
    const own = await signedInVisitor(t, alice.accountId);
    assert.match(await (await own.get("/servers/rows")).text(), /alice-secret-box/);
  });

  it("sign-up is closed unless the operator opens it", async () => {
    const visitor = webVisitor(t.url);
    assert.equal((await visitor.get("/sign-up")).status, 403);
    await visitor.get("/sign-in");
    assert.equal(
      (await visitor.post("/sign-up", { email: "x@example.com", password: PASSWORD })).status,
      403,
    );
  });
});

describe("web console: sign-up and session lifetimes", () => {
  const clock = new SettableClock();
  let t: TestApp;
  before(async () => {
    t = await startTestApp(
      {
        VPS_SIGNUP: "open",
        VPS_SIGNUP_CREDIT: "5.00",
        VPS_SESSION_IDLE_MS: "3600000",
        VPS_SESSION_MAX_MS: "7200000",
      },
      clock,
    );
  });
  after(() => t.close());

  it("an open sign-up makes an account with the sign-up credit, signed in", async () => {
    const visitor = webVisitor(t.url);
    await visitor.get("/sign-up");
    const taken = await visitor.post("/sign-up", { email: "OWNER@localhost", password: PASSWORD });
    assert.equal(taken.status, 409);
    const res = await visitor.post("/sign-up", { email: "new@example.com", password: PASSWORD });
    assert.equal(res.status, 303);
    const account = await (await visitor.get("/account")).text();
    assert.match(account, /new@example\.com/);
    assert.match(account, /5\.00 USD/);
  });

  it("a session ends after an idle hour, and after its whole lifetime however busy", async () => {
    const visitor = await signedInVisitor(t, OWNER);
    clock.advance(50 * 60_000);
    assert.equal((await visitor.get("/servers")).status, 200);
    clock.advance(50 * 60_000);
    assert.equal((await visitor.get("/servers")).status, 200, "used 50 minutes ago: not idle");
    clock.advance(61 * 60_000);
    assert.equal((await visitor.get("/servers")).status, 303, "idle for an hour");

    const busy = webVisitor(t.url);
    await busy.get("/sign-in");
    assert.equal((await busy.post("/sign-in", { email: "owner@localhost", password: PASSWORD })).status, 303);
    for (let i = 0; i < 3; i++) {
      clock.advance(35 * 60_000);
      assert.equal((await busy.get("/servers")).status, 200);
    }
    clock.advance(16 * 60_000);
    assert.equal((await busy.get("/servers")).status, 303, "two hours after signing in");
  });
});

describe("web console: the first start", () => {
  it("prints an invitation link for the first account, an operator, which opens its password page", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vps-first-"));
    const databaseUrl = await freshDatabaseUrl(dir);
    const server = await spawnServer({
      DATABASE_URL: databaseUrl,
      VPS_IMAGE_STORE: join(dir, "store"),
      VPS_EMBEDDED_HOSTS: "off",
      VPS_ADMIN_TOKEN: "first-start-admin-token-0123456789",
    });
    try {
      const link = /open (http:\/\/\S+\/invite\/\S+) to set the password of owner@localhost/.exec(
        server.stderr(),
      );
      assert.ok(link?.[1], server.stderr());
      const page = await fetch(link[1]);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Set your password/);
      // Whoever starts the service on an empty database runs it: the first account has the operator's pages.
      const first = await fetch(`${server.url}/api/v1/admin/accounts/1/`, {
        headers: { authorization: "Bearer first-start-admin-token-0123456789" },
      });
      assert.equal(first.status, 200);
      assert.equal(((await first.json()) as { operator: boolean }).operator, true);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
      await dropDatabase(databaseUrl);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
