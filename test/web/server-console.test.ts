import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { openConsole, refusal } from "../support/console-client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor, webVisitor } from "../support/web-session.ts";

/** A server of the account, active. */
async function activeServer(customer: Client, name: string): Promise<number> {
  const made = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name });
  assert.equal(made.status, 201, made.text);
  await waitForStatus(customer, made.body.id, "active");
  return made.body.id;
}

const json = (res: globalThis.Response): Promise<Json> => res.json();

/** Posts with only the X-CSRF-Token header and no body, as the console page's script does. */
function scriptPost(url: string, visitor: WebVisitor, path: string, token = visitor.csrf ?? "") {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { cookie: `vps_session=${visitor.cookie}`, "x-csrf-token": token },
    redirect: "manual",
  });
}

describe("web console: a server's console and graphs (raw HTTP)", () => {
  let t: TestApp;
  let alice: Client & { accountId: number };
  let browser: WebVisitor;
  let server: number;
  before(async () => {
    t = await startTestApp();
    alice = await t.newAccount();
    server = await activeServer(alice, "alice-web");
    browser = await signedInVisitor(t, alice.accountId);
  });
  after(() => t.close());

  it("the console page's ticket opens the server's console once, for the signed-in account", async () => {
    const page = await browser.get(`/servers/${server}/console`);
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<h1>Console of alice-web<\/h1>/);
    assert.match(text, /<script src="\/assets\/xterm\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    assert.match(text, /<script src="\/assets\/serial-console\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    assert.doesNotMatch(text, /<script>/, "no inline script");
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self';/);

    const res = await scriptPost(t.url, browser, `/servers/${server}/console/ticket`);
    assert.equal(res.status, 201);
    const { url, expires_at } = await json(res);
    assert.match(url, new RegExp(`^${t.url.replace("http", "ws")}/api/v1/console/vpsc_`));
    assert.ok(Date.parse(expires_at) > Date.now());
    const console = await openConsole(url);
    await console.until(/login: $/);
    console.close();
    assert.deepEqual(await refusal(url), { status: 401, code: "console_ticket_invalid" });
  });

  it("a ticket needs the session and its CSRF token", async () => {
    const path = `/servers/${server}/console/ticket`;
    const stranger = webVisitor(t.url);
    await stranger.get("/sign-in");
    const signedOut = await stranger.post(path, {});
    assert.equal(signedOut.status, 303);
    assert.equal(signedOut.headers.get("location"), "/sign-in");

    const noToken = await scriptPost(t.url, browser, path, "");
    assert.equal(noToken.status, 403);
    assert.equal((await json(noToken)).error.code, "csrf_rejected");
    const wrongToken = await scriptPost(t.url, browser, path, "A".repeat(43));
    assert.equal(wrongToken.status, 403);
    assert.equal((await json(wrongToken)).error.code, "csrf_rejected");

    // Another signed-in browser's token is not this one's.
    const other = await signedInVisitor(t, alice.accountId);
    await other.get("/servers");
    const crossed = await scriptPost(t.url, browser, path, other.csrf);
    assert.equal(crossed.status, 403);

    // The API's route never takes the browser's cookie.
    const api = await fetch(`${t.url}/api/v1/servers/${server}/console/`, {
      method: "POST",
      headers: { cookie: `vps_session=${browser.cookie}`, "x-csrf-token": browser.csrf ?? "" },
    });
    assert.equal(api.status, 401);
  });

  it("another account's server is not found: its console page, ticket, graphs and series", async () => {
    const bob = await t.newAccount();
    const bobs = await activeServer(bob, "bob-db");
    await browser.get("/servers");
    const ticket = await scriptPost(t.url, browser, `/servers/${bobs}/console/ticket`);
    assert.equal(ticket.status, 404);
    assert.deepEqual(await json(ticket), { error: { code: "not_found", message: "Server not found." } });
    for (const path of [`/servers/${bobs}/console`, `/servers/${bobs}/graphs`]) {
      const page = await browser.get(path);
      assert.equal(page.status, 404, path);
      assert.doesNotMatch(await page.text(), /bob-db/);
    }
    const series = await browser.get(
      `/servers/${bobs}/metrics.json?type=cpu&start=2026-01-01T00:00:00Z&end=2026-01-01T01:00:00Z`,
    );
    assert.equal(series.status, 404);
    assert.equal((await json(series)).error.code, "not_found");
    for (const path of ["/servers/abc/console", "/servers/0/graphs"]) {
      assert.equal((await browser.get(path)).status, 404, path);
    }
  });

  it("with VPS_CONSOLE_LIMIT consoles open, the page's ticket is refused with the reason", async () => {
    const busy = await activeServer(alice, "alice-busy");
    await browser.get("/servers");
    const consoles = [];
    for (let i = 0; i < 2; i++) {
      const res = await scriptPost(t.url, browser, `/servers/${busy}/console/ticket`);
      assert.equal(res.status, 201);
      consoles.push(await openConsole((await json(res)).url));
    }
    await Promise.all(consoles.map((c) => c.until(/login:/)));
    const refused = await scriptPost(t.url, browser, `/servers/${busy}/console/ticket`);
    assert.equal(refused.status, 409);
    assert.deepEqual(await json(refused), {
      error: {
        code: "console_limit_reached",
        message: "The server has 2 consoles open already, its limit; close one first.",
      },
    });
    for (const c of consoles) c.close();
  });

  it("a stopped server's ticket is refused with the reason", async () => {
    const stopped = await activeServer(alice, "alice-stopped");
    assert.equal((await alice.post(`/api/v1/servers/${stopped}/stop/`)).status, 200);
    await waitForStatus(alice, stopped, "stopped");
    await browser.get("/servers");
    const res = await scriptPost(t.url, browser, `/servers/${stopped}/console/ticket`);
    assert.equal(res.status, 409);
    assert.equal((await json(res)).error.code, "server_not_running");
  });

  it("the graphs page and its series in the usage history's shape", async () => {
    const page = await browser.get(`/servers/${server}/graphs`);
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<h1>Usage of alice-web<\/h1>/);
    assert.match(text, /<script src="\/assets\/uplot\.js\?v=[0-9a-f]{12}" defer><\/script>/);
    for (const label of ["Last hour", "Last day", "Last week"]) assert.match(text, new RegExp(label));

    // The usage history holds what the power sync samples.
    await t.app.engine.powerSync.syncOnce();
    const detail = (await alice.get(`/api/v1/servers/${server}/`)).body;
    const end = new Date(Date.now() + 60_000).toISOString();
    const start = new Date(Date.now() - 3600_000).toISOString();
    const query = `type=cpu,memory,disk,network&start=${start}&end=${end}&step=60`;
    const res = await browser.get(`/servers/${server}/metrics.json?${query}`);
    assert.equal(res.status, 200);
    const { metrics } = await json(res);
    assert.deepEqual(Object.keys(metrics.time_series).sort(), [
      "cpu",
      "disk.0.used",
      "memory.used",
      "network.0.bandwidth",
      "network.0.bandwidth.in",
      "network.0.bandwidth.out",
    ]);
    const [[at, disk]] = metrics.time_series["disk.0.used"].values;
    assert.ok(at >= Date.parse(start) / 1000 && at <= Date.now() / 1000 + 1);
    assert.equal(disk, String(detail.resource_usage.disk_used));

    const missing = await browser.get(`/servers/${server}/metrics.json?type=cpu`);
    assert.equal(missing.status, 400);
    assert.equal((await json(missing)).error.code, "invalid_input");
  });
});
