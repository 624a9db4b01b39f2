import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor, webVisitor } from "../support/web-session.ts";

const OPERATOR_PAGES = [
  "/admin",
  "/admin/accounts",
  "/admin/accounts/1",
  "/admin/hosts",
  "/admin/catalogue",
  "/admin/locations",
  "/admin/failed-actions",
  "/admin/revenue",
];

/** The text of the page's alert (a refused form's error and its code). */
async function alertOf(res: globalThis.Response): Promise<string> {
  const text = await res.text();
  const alert = /<div class="alert" role="alert">([\s\S]*?)<\/div>/.exec(text)?.[1] ?? "";
  return alert.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");
}

describe("web console: operator pages (raw HTTP)", () => {
  let t: TestApp;
  let operator: WebVisitor;
  let customer: Awaited<ReturnType<TestApp["newAccount"]>>;
  let customerBrowser: WebVisitor;
  const balance = async () => (await customer.get("/api/v1/account/")).body.balance;

  before(async () => {
    t = await startTestApp();
    customer = await t.newAccount("5.00");
    customerBrowser = await signedInVisitor(t, customer.accountId);
    const made = await t.admin.post("/api/v1/admin/accounts/1/operator/");
    assert.equal(made.status, 200, made.text);
    operator = await signedInVisitor(t, 1);
  });
  after(() => t.close());

  it("the admin API makes an account an operator and a customer again, with the admin token only", async () => {
    const other = await t.newAccount();
    const path = `/api/v1/admin/accounts/${other.accountId}/operator/`;
    assert.equal((await other.post(path)).status, 401);
    assert.equal((await t.anonymous.post(path)).status, 401);
    assert.equal((await t.admin.get(`/api/v1/admin/accounts/${other.accountId}/`)).body.operator, false);

    const made = await t.admin.post(path);
    assert.equal(made.status, 200);
    assert.equal(made.body.operator, true);
    assert.equal((await t.admin.post(path)).body.operator, true, "making an operator again changes nothing");
    const listed = (await t.admin.get("/api/v1/admin/accounts/")).body.results;
    assert.deepEqual(
      listed.filter((a: { operator: boolean }) => a.operator).map((a: { id: number }) => a.id),
      [1, other.accountId],
    );

    assert.equal((await other.delete(path)).status, 401);
    assert.equal((await t.admin.delete(path)).status, 204);
    assert.equal((await t.admin.get(`/api/v1/admin/accounts/${other.accountId}/`)).body.operator, false);
    assert.equal((await t.admin.post("/api/v1/admin/accounts/999999/operator/")).status, 404);
    // The customer's own view of its account is as it was.
    assert.equal("operator" in (await other.get("/api/v1/account/")).body, false);
  });

  it("a customer's session opens no operator page: each is a 404, as a page that does not exist", async () => {
    const servers = await (await customerBrowser.get("/servers")).text();
    assert.doesNotMatch(servers, /href="\/admin"/, "a customer has no Operator entry");
    for (const path of OPERATOR_PAGES) {
      const res = await customerBrowser.get(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /owner@localhost/, path);
    }
    const credit = await customerBrowser.post(`/admin/accounts/${customer.accountId}/credit`, {
      amount: "1000.00",
    });
    assert.equal(credit.status, 404);
    for (const path of ["/admin/hosts/1/disable", "/admin/catalogue/os", "/admin/accounts/1/invitation"]) {
      assert.equal((await customerBrowser.post(path, {})).status, 404, path);
    }
    assert.equal(await balance(), "5.00");
    assert.equal((await t.admin.get("/api/v1/admin/hosts/1/")).body.admin_state, "enabled");

    const visitor = webVisitor(t.url);
    const anonymous = await visitor.get("/admin/accounts");
    assert.equal(anonymous.status, 303);
    assert.equal(anonymous.headers.get("location"), "/sign-in");

    const page = await operator.get("/servers");
    assert.match(await page.text(), /<a href="\/admin">Operator<\/a>/);
    for (const path of OPERATOR_PAGES.slice(1)) assert.equal((await operator.get(path)).status, 200, path);
  });

  it("the API's admin token and an operator's cookie open nothing of each other's", async () => {
    const cookie = { cookie: `vps_session=${operator.cookie}` };
    const api = await fetch(`${t.url}/api/v1/admin/accounts/`, { headers: cookie });
    assert.equal(api.status, 401);
    const page = await fetch(`${t.url}/admin/accounts`, {
      headers: { authorization: "Bearer admin-token-for-tests-0123456789" },
      redirect: "manual",
    });
    assert.equal(page.status, 303, "the admin token signs nobody in to the console");
  });

  it("adds credit through the form: CSRF required, the service's bounds refused with their code", async () => {
    const path = `/admin/accounts/${customer.accountId}`;
    const page = await operator.get(path);
    assert.match(await page.text(), /5\.00 USD/);

    const forged = await operator.post(`${path}/credit`, { amount: "10.00", _csrf: "" });
    assert.equal(forged.status, 403);
    assert.match(await forged.text(), /came from another site/);
    const othersToken = await operator.post(`${path}/credit`, {
      amount: "10.00",
      _csrf: customerBrowser.csrf ?? "",
    });
    assert.equal(othersToken.status, 403);

    const zero = await operator.post(`${path}/credit`, { amount: "0" });
    assert.equal(zero.status, 400);
    assert.match(await alertOf(zero), /invalid_input.*amount: Must be a non-zero amount/);
    const huge = await operator.post(`${path}/credit`, { amount: "999999999999.00" });
    assert.equal(huge.status, 400);
    assert.match(
      await alertOf(huge),
      /must stay within -1000000000\.00 and 1000000000\.00.*amount_out_of_range/,
    );
    const over = await operator.post(`${path}/credit`, { amount: "999999999.00" });
    assert.equal(over.status, 400, "the balance would pass the bound");
    assert.match(await alertOf(over), /The balance must stay within.*amount_out_of_range/);
    assert.equal(await balance(), "5.00");

    const added = await operator.post(`${path}/credit`, { amount: "12.50" });
    assert.equal(added.status, 303);
    assert.equal(added.headers.get("location"), path);
    assert.equal(await balance(), "17.50");
    assert.match(await (await operator.get(path)).text(), /<dd data-balance>17\.50 USD<\/dd>/);
    const unexplained = await operator.post(`${path}/credit`, { amount: "-2.50" });
    assert.equal(unexplained.status, 400, "a deduction is a correction, which needs a reason");
    assert.match(await alertOf(unexplained), /invalid_input.*reason: A correction needs a reason/);
    const deducted = await operator.post(`${path}/credit`, {
      amount: "-2.50",
      reason: "Charged twice by hand",
    });
    assert.equal(deducted.status, 303);
    assert.equal(await balance(), "15.00");

    assert.equal((await operator.post("/admin/accounts/999999/credit", { amount: "1.00" })).status, 404);
    assert.equal((await operator.get("/admin/accounts/0x1")).status, 404);
  });

  it("makes an invitation link for an account, which opens its password page", async () => {
    const res = await operator.post(`/admin/accounts/${customer.accountId}/invitation`, {});
    assert.equal(res.status, 200);
    const url = /id="invitation-url" type="text" readonly value="([^"]+)"/.exec(await res.text())?.[1];
    assert.ok(url, "the link is shown");
    const opened = await webVisitor(t.url).get(new URL(url).pathname);
    assert.equal(opened.status, 200);
    assert.match(await opened.text(), new RegExp(customer.accountId === 1 ? "owner" : "user-"));
  });

  it("a revoke holds from the operator's next request", async () => {
    const other = await t.newAccount();
    await t.admin.post(`/api/v1/admin/accounts/${other.accountId}/operator/`);
    const browser = await signedInVisitor(t, other.accountId);
    assert.equal((await browser.get("/admin/hosts")).status, 200);
    await t.admin.delete(`/api/v1/admin/accounts/${other.accountId}/operator/`);
    assert.equal((await browser.get("/admin/hosts")).status, 404);
    assert.equal((await browser.get("/servers")).status, 200, "still signed in, as a customer");
  });

  it("disables, enables and drains a host; a drain that cannot move a server says why", async () => {
    const host = (await t.admin.get("/api/v1/admin/hosts/")).body.results[0];
    const disabled = await operator.post(`/admin/hosts/${host.id}/disable`, {});
    assert.equal(disabled.status, 303);
    assert.equal((await t.admin.get(`/api/v1/admin/hosts/${host.id}/`)).body.state, "disabled");
    assert.match(
      await (await operator.get("/admin/hosts")).text(),
      new RegExp(`data-host-id="${host.id}"[\\s\\S]*data-state="disabled"`),
    );
    assert.equal((await operator.post(`/admin/hosts/${host.id}/enable`, {})).status, 303);

    const server = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "stays" });
    assert.equal(server.status, 201, server.text);
    await waitForStatus(customer, server.body.id, "active");
    const drained = await operator.post(`/admin/hosts/${host.id}/drain`, {});
    assert.equal(drained.status, 200);
    const text = await drained.text();
    assert.match(text, /is draining/);
    assert.match(text, /0 servers are being migrated/);
    assert.match(text, new RegExp(`Server ${server.body.id}: [^<]+<code class="code">no_capacity</code>`));
    assert.equal((await t.admin.get(`/api/v1/admin/hosts/${host.id}/`)).body.state, "draining");
    assert.equal((await operator.post("/admin/hosts/999999/drain", {})).status, 404);
    assert.equal((await operator.post(`/admin/hosts/${host.id}/enable`, {})).status, 303);
    assert.equal((await t.admin.get(`/api/v1/admin/hosts/${host.id}/`)).body.state, "enabled");
  });

  it("adds plans, operating systems, locations and addresses as the API does, refusing what it refuses", async () => {
    const plan = {
      name: "Huge",
      vcpus: "two",
      memory: "65536",
      storage: "800",
      bandwidth: "20000",
      price_hourly: "0.90",
      price_monthly: "600.00",
      "location:us-west": "on",
    };
    const refused = await operator.post("/admin/catalogue/plans", plan);
    assert.equal(refused.status, 400);
    assert.match(await alertOf(refused), /invalid_input.*vcpus: Must be an integer\./);
    const added = await operator.post("/admin/catalogue/plans", { ...plan, vcpus: "16" });
    assert.equal(added.status, 303, await added.text());
    const plans = (await customer.get("/api/v1/plans/")).body.results;
    const huge = plans.find((p: { name: string }) => p.name === "Huge");
    assert.deepEqual([huge.vcpus, huge.price_monthly, huge.locations], [16, "600.00", ["us-west"]]);

    const badImage = await operator.post("/admin/catalogue/os", {
      name: "Alpine 3.20",
      distribution: "alpine",
      version: "3.20",
      image: "../etc/passwd",
    });
    assert.equal(badImage.status, 400);
    assert.match(await alertOf(badImage), /image: /);
    const os = await operator.post("/admin/catalogue/os", {
      name: "Alpine 3.20",
      distribution: "alpine",
      version: "3.20",
      image: "alpine-3.20.qcow2",
    });
    assert.equal(os.status, 303);
    assert.match(await (await operator.get("/admin/catalogue")).text(), /<code>alpine-3\.20\.qcow2<\/code>/);

    const badCode = await operator.post("/admin/locations", { code: "EU West", name: "x", country: "de" });
    assert.equal(badCode.status, 400);
    assert.match(await alertOf(badCode), /invalid_input.*code: Use 1-32 lowercase/);
    const location = await operator.post("/admin/locations", {
      code: "eu-test",
      name: "Test",
      country: "de",
    });
    assert.equal(location.status, 303);
    const taken = await operator.post("/admin/locations", { code: "eu-test", name: "Test", country: "de" });
    assert.equal(taken.status, 409);
    assert.match(await alertOf(taken), /location_exists/);

    const block = await operator.post("/admin/locations/addresses", {
      location: "eu-test",
      cidr: "198.51.100.0/29",
    });
    assert.equal(block.status, 200);
    const blockText = await block.text();
    assert.match(blockText, /Added 6 IPv4 addresses to the pool of eu-test/);
    assert.match(blockText, /data-pool="eu-test-4">0 of 6<\/td><td class="number">6<\/td>/);
    const overlap = await operator.post("/admin/locations/addresses", {
      location: "eu-test",
      cidr: "198.51.100.0/30",
    });
    assert.equal(overlap.status, 409);
    assert.match(await alertOf(overlap), /address_range_overlaps/);
    // The sample server holds one of us-west's addresses.
    const usWest = await (await operator.get("/admin/locations")).text();
    assert.match(usWest, /data-pool="us-west-4">[1-9]\d* of \d+<\/td>/);
  });

  it("lists the failed actions of every account, the newest first, with their codes and messages", async () => {
    const empty = await (await operator.get("/admin/failed-actions")).text();
    assert.match(empty, /No failed actions\./);
    const servers = [];
    for (const name of ["flaky", "flakier"]) {
      const server = await customer.post("/api/v1/servers/", { ...SAMPLE_CREATE, name });
      await waitForStatus(customer, server.body.id, "active");
      servers.push(server.body.id);
    }
    t.driver.faults.inject("reboot", { permanent: true });
    try {
      const failed = [];
      for (const id of servers) {
        const actionId = (await customer.post(`/api/v1/servers/${id}/reboot/`)).body.action_id;
        const action = (await customer.get(`/api/v1/actions/${actionId}/?wait=30`)).body;
        assert.equal(action.status, "error");
        failed.push(action);
      }
      const text = await (await operator.get("/admin/failed-actions")).text();
      const shown = [...text.matchAll(/data-action-id="(\d+)"/g)].map((m) => Number(m[1]));
      assert.deepEqual(shown, failed.map((a) => a.id).reverse());
      const row = new RegExp(`data-action-id="${failed[0].id}"[\\s\\S]*?</tr>`).exec(text)?.[0] ?? "";
      assert.match(row, /reboot/);
      assert.match(row, /flaky/);
      assert.ok(row.includes(customer.accountId === 1 ? "owner" : "user-"));
      assert.ok(row.includes(`<code class="code">${failed[0].error.code}</code>`), row);
      assert.ok(row.includes(failed[0].error.message.replace(/'/g, "&#39;")), row);
    } finally {
      t.driver.faults.clear();
    }
  });
});
