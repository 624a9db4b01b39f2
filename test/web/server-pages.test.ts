import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor } from "../support/web-session.ts";

/** A form a browser would send to create a Standard VPS with Ubuntu 22.04 in us-west. */
const CREATE_FORM = { name: "web-01", location: "us-west", plan_id: "1", source: "os:5" };

/** The id in a redirect to a server's page, and the action it follows. */
function landedOn(res: Response): { serverId: number; actionId: number | undefined } {
  assert.equal(res.status, 303);
  const match = /^\/servers\/(\d+)(?:\?action=(\d+))?$/.exec(res.headers.get("location") ?? "");
  assert.ok(match, `redirected to ${res.headers.get("location")}`);
  return { serverId: Number(match[1]), actionId: match[2] === undefined ? undefined : Number(match[2]) };
}

/** Creates a server through the create page and waits for it to be active. */
async function createThroughPage(
  visitor: WebVisitor,
  api: Parameters<typeof waitForStatus>[0],
  name: string,
): Promise<number> {
  await visitor.get("/servers/new");
  const { serverId } = landedOn(await visitor.post("/servers/new", { ...CREATE_FORM, name }));
  await waitForStatus(api, serverId, "active");
  return serverId;
}

describe("web console: server pages (raw HTTP)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_BACKUP_PRICE_PERCENT: "20" });
  });
  after(() => t.close());

  it("the create page offers the location's plans with prices, the OS and images, keys and the backup surcharge", async () => {
    const account = await t.newAccount();
    await account.post("/api/v1/ssh-keys/", {
      name: "laptop",
      public_key:
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop",
    });
    const visitor = await signedInVisitor(t, account.accountId);
    const list = await (await visitor.get("/servers")).text();
    assert.match(list, /<a class="button" href="\/servers\/new">Create server<\/a>/);

    const page = await visitor.get("/servers/new");
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<option value="us-west" selected>US West \(San Jose\) \(us-west\)<\/option>/);
    assert.match(
      text,
      /Standard VPS: 2 vCPU, 4 GB RAM, 80 GB disk, 20\.00 USD\/month \(0\.03\/hour\); backups \+4\.00\/month/,
    );
    assert.doesNotMatch(text, /Memory VPS/, "not offered in us-west");
    assert.match(text, /<option value="os:5">Ubuntu 22\.04 LTS<\/option>/);
    assert.match(text, /laptop \(SHA256:/);
    assert.match(text, /Adds 20% to the plan's price/);

    // The location's plans, as htmx asks for them when the location changes.
    const euPlans = await (await visitor.get("/servers/new/plans?location=eu-central")).text();
    assert.match(euPlans, /Memory VPS/);
  });

  it("a created server's page shows its state, addresses, ssh line, plan, and follows its create", async () => {
    const account = await t.newAccount();
    const visitor = await signedInVisitor(t, account.accountId);
    await visitor.get("/servers/new");
    const res = await visitor.post("/servers/new", {
      ...CREATE_FORM,
      name: "db-primary",
      hostname: "db.example.com",
      backups: "on",
    });
    const { serverId, actionId } = landedOn(res);
    assert.ok(actionId);
    const server = await waitForStatus(account, serverId, "active");
    assert.equal(server.hostname, "db.example.com");
    assert.equal(server.backups_enabled, true);

    const page = await visitor.get(`/servers/${serverId}?action=${actionId}`);
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<h1>db-primary<\/h1>/);
    assert.match(text, new RegExp(`<a href="/servers/${serverId}/console">Serial console</a>`));
    assert.match(text, new RegExp(`<a href="/servers/${serverId}/graphs">Usage graphs</a>`));
    assert.match(text, /data-status="active"/);
    assert.match(text, new RegExp(`<dd>${server.ip_address.replaceAll(".", "\\.")}</dd>`));
    assert.match(text, new RegExp(`<dd>${server.ipv6_address}</dd>`));
    assert.match(text, new RegExp(`ssh root@${server.ssh.host} -p ${server.ssh.port}`));
    assert.match(text, /Standard VPS: 2 vCPU, 4 GB RAM, 80 GB disk/);
    assert.match(text, /Ubuntu 22\.04 LTS/);
    assert.match(text, /data-action-status="success"/);
    assert.match(text, /<button type="submit" name="action" value="start" disabled>Start<\/button>/);
    assert.match(text, /<button type="submit" name="action" value="stop">Stop<\/button>/);

    // The list links to it.
    assert.match(await (await visitor.get("/servers")).text(), new RegExp(`href="/servers/${serverId}"`));

    // Its live part: unchanged, a 204 that htmx leaves alone; changed, the new part.
    const poll = /hx-get="(\/servers\/\d+\/live\?v=[0-9a-f]+)"/.exec(text)?.[1];
    assert.ok(poll);
    assert.equal((await visitor.get(poll)).status, 204);
    await account.post(`/api/v1/servers/${serverId}/stop/`);
    const changed = await visitor.get(poll);
    assert.equal(changed.status, 200);
    assert.match(await changed.text(), /data-status="(stopping|stopped)"/);
  });

  it("power buttons queue the action and the page follows its progress to the end", async () => {
    const account = await t.newAccount();
    const visitor = await signedInVisitor(t, account.accountId);
    const id = await createThroughPage(visitor, account, "power-box");
    await visitor.get(`/servers/${id}`);
    const { actionId } = landedOn(await visitor.post(`/servers/${id}/power`, { action: "stop" }));
    assert.ok(actionId);
    const ended = await eventually(async () => {
      const part = await (await visitor.get(`/servers/${id}/actions/${actionId}`)).text();
      return /data-action-status="success"/.test(part) ? part : undefined;
    });
    assert.match(ended, /Stop: done/);
    assert.doesNotMatch(ended, /hx-trigger/, "an ended action stops asking");
    assert.equal((await account.get(`/api/v1/servers/${id}/`)).body.status, "stopped");

    // Refused by the service: the page again, with its message and code, under the API's status.
    const again = await visitor.post(`/servers/${id}/power`, { action: "stop" });
    assert.equal(again.status, 400);
    assert.match(await again.text(), /<code class="code">server_not_running<\/code>/);
    const bogus = await visitor.post(`/servers/${id}/power`, { action: "explode" });
    assert.equal(bogus.status, 400);
  });

  it("rename, backups, snapshots, rebuild and resize go through the services and show their refusals", async () => {
    const account = await t.newAccount();
    const visitor = await signedInVisitor(t, account.accountId);
    const id = await createThroughPage(visitor, account, "settings-box");
    await visitor.get(`/servers/${id}`);

    assert.equal(landedOn(await visitor.post(`/servers/${id}/rename`, { name: "renamed-box" })).serverId, id);
    assert.equal((await account.get(`/api/v1/servers/${id}/`)).body.name, "renamed-box");
    const badName = await visitor.post(`/servers/${id}/rename`, { name: "not a name!" });
    assert.equal(badName.status, 400);
    assert.match(await badName.text(), /invalid_input/);

    landedOn(await visitor.post(`/servers/${id}/backups`, { backups: "on" }));
    assert.equal((await account.get(`/api/v1/servers/${id}/`)).body.backups_enabled, true);

    const snap = landedOn(await visitor.post(`/servers/${id}/snapshots`, { name: "before-upgrade" }));
    assert.ok(snap.actionId);
    const images = await eventually(async () => {
      const part = await (await visitor.get(`/servers/${id}/images`)).text();
      return /before-upgrade[\s\S]*data-image-status="available"/.test(part) ? part : undefined;
    });
    const imageId = Number(/data-image-id="(\d+)"/.exec(images)?.[1]);

    const resizeRunning = await visitor.post(`/servers/${id}/resize`, { plan_id: "2" });
    assert.equal(resizeRunning.status, 400);
    assert.match(await resizeRunning.text(), /server_not_stopped/);

    const unconfirmed = await visitor.post(`/servers/${id}/rebuild`, { source: `image:${imageId}` });
    assert.equal(unconfirmed.status, 400);
    assert.match(await unconfirmed.text(), /Tick the box/);
    const rebuilt = landedOn(
      await visitor.post(`/servers/${id}/rebuild`, { source: `image:${imageId}`, confirm: "yes" }),
    );
    assert.ok(rebuilt.actionId);
    await waitForStatus(account, id, "active");

    await account.post(`/api/v1/servers/${id}/stop/`);
    await waitForStatus(account, id, "stopped");
    const smaller = await visitor.post(`/servers/${id}/resize`, { plan_id: "3" });
    assert.equal(smaller.status, 400);
    assert.match(await smaller.text(), /disk_cannot_shrink/);
    landedOn(await visitor.post(`/servers/${id}/resize`, { plan_id: "2" }));
    await eventually(async () =>
      (await account.get(`/api/v1/servers/${id}/`)).body.plan.id === 2 ? true : undefined,
    );

    assert.equal(landedOn(await visitor.post(`/servers/${id}/images/${imageId}/delete`, {})).serverId, id);
    assert.equal((await account.get(`/api/v1/images/${imageId}/`)).status, 404);
  });

  it("destroy needs the server's exact name, checked by the server", async () => {
    const account = await t.newAccount();
    const visitor = await signedInVisitor(t, account.accountId);
    const id = await createThroughPage(visitor, account, "doomed-box");
    await visitor.get(`/servers/${id}`);
    for (const typed of ["", "doomed", "DOOMED-BOX", "doomed-box "]) {
      const refused = await visitor.post(`/servers/${id}/destroy`, { confirm_name: typed });
      assert.equal(refused.status, 400, JSON.stringify(typed));
      assert.match(await refused.text(), /name_not_confirmed/);
    }
    assert.equal((await account.get(`/api/v1/servers/${id}/`)).status, 200, "still there");
    const done = await visitor.post(`/servers/${id}/destroy`, { confirm_name: "doomed-box" });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get("location"), "/servers");
    assert.equal((await account.get(`/api/v1/servers/${id}/`)).status, 404);
    assert.doesNotMatch(await (await visitor.get("/servers")).text(), /doomed-box/);
  });

  it("a create the balance cannot pay is a 402 that says what is needed, what there is, and where to look", async () => {
    const poor = await t.newAccount("0.00");
    const visitor = await signedInVisitor(t, poor.accountId);
    await visitor.get("/servers/new");
    const res = await visitor.post("/servers/new", CREATE_FORM);
    assert.equal(res.status, 402);
    const text = await res.text();
    assert.match(text, /needs a balance of at least 0\.03 .*the balance is 0\.00/);
    assert.match(text, /insufficient_credit/);
    assert.match(text, /<a href="\/account">/);
    assert.match(text, /value="web-01"/, "the form keeps what was typed");
    assert.equal((await poor.get("/api/v1/servers/")).body.count, 0);
  });

  it("every form refuses a request without the session's CSRF token, and changes nothing", async () => {
    const account = await t.newAccount();
    const visitor = await signedInVisitor(t, account.accountId);
    const id = await createThroughPage(visitor, account, "guarded-box");
    const snap = await account.post(`/api/v1/servers/${id}/create_image/`, { name: "kept" });
    const imageId = snap.body.image.id;
    await waitForStatus(account, id, "active");
    const forms: [string, Record<string, string>][] = [
      ["/servers/new", { ...CREATE_FORM, name: "forged" }],
      [`/servers/${id}/power`, { action: "stop" }],
      [`/servers/${id}/rename`, { name: "forged" }],
      [`/servers/${id}/backups`, { backups: "off" }],
      [`/servers/${id}/snapshots`, { name: "forged" }],
      [`/servers/${id}/images/${imageId}/delete`, {}],
      [`/servers/${id}/rebuild`, { source: "os:3", confirm: "yes" }],
      [`/servers/${id}/resize`, { plan_id: "2" }],
      [`/servers/${id}/destroy`, { confirm_name: "guarded-box" }],
    ];
    for (const [path, fields] of forms) {
      for (const token of ["", "forged-token"]) {
        const res = await visitor.post(path, { ...fields, _csrf: token });
        assert.equal(res.status, 403, `${path} with ${JSON.stringify(token)}`);
        assert.match(await res.text(), /csrf_rejected|reload the page/);
      }
    }
    const server = (await account.get(`/api/v1/servers/${id}/`)).body;
    assert.equal(server.name, "guarded-box");
    assert.equal(server.status, "active");
    assert.equal(server.backups_enabled, false);
    assert.equal((await account.get("/api/v1/servers/")).body.count, 1);
    assert.equal((await account.get(`/api/v1/images/?server_id=${id}`)).body.count, 1);
  });

  it("another account's server, its parts, actions and images are 404s on every route", async () => {
    const alice = await t.newAccount();
    const aliceBrowser = await signedInVisitor(t, alice.accountId);
    const id = await createThroughPage(aliceBrowser, alice, "alice-box");
    const snap = await alice.post(`/api/v1/servers/${id}/create_image/`, { name: "alice-snap" });
    const imageId = snap.body.image.id;
    const actionId = snap.body.action_id;
    await waitForStatus(alice, id, "active");

    const bob = await signedInVisitor(t, (await t.newAccount()).accountId);
    for (const path of [
      `/servers/${id}`,
      `/servers/${id}?action=${actionId}`,
      `/servers/${id}/live`,
      `/servers/${id}/images`,
      `/servers/${id}/actions/${actionId}`,
    ]) {
      const res = await bob.get(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /alice-/, path);
    }
    await bob.get("/servers");
    const forms: [string, Record<string, string>][] = [
      [`/servers/${id}/power`, { action: "stop" }],
      [`/servers/${id}/rename`, { name: "taken" }],
      [`/servers/${id}/backups`, { backups: "on" }],
      [`/servers/${id}/snapshots`, { name: "stolen" }],
      [`/servers/${id}/images/${imageId}/delete`, {}],
      [`/servers/${id}/rebuild`, { source: "os:3", confirm: "yes" }],
      [`/servers/${id}/resize`, { plan_id: "2" }],
      [`/servers/${id}/destroy`, { confirm_name: "alice-box" }],
    ];
    for (const [path, fields] of forms) {
      const res = await bob.post(path, fields);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /alice-/, path);
    }
    // Nor is Alice's image deleted from Bob's own server's page, nor her action followed there.
    const bobApi = await t.newAccount();
    const bobOwn = await signedInVisitor(t, bobApi.accountId);
    const own = await createThroughPage(bobOwn, bobApi, "bob-box");
    await bobOwn.get(`/servers/${own}`);
    assert.equal((await bobOwn.post(`/servers/${own}/images/${imageId}/delete`, {})).status, 404);
    assert.equal((await bobOwn.get(`/servers/${own}/actions/${actionId}`)).status, 404);
    assert.equal(
      (await bobOwn.post("/servers/new", { ...CREATE_FORM, source: `image:${imageId}` })).status,
      404,
    );

    const server = (await alice.get(`/api/v1/servers/${id}/`)).body;
    assert.equal(server.name, "alice-box");
    assert.equal(server.status, "active");
    assert.equal((await alice.get(`/api/v1/images/${imageId}/`)).status, 200);
    // Ids spelled otherwise name nothing.
    assert.equal((await aliceBrowser.get(`/servers/0${id}`)).status, 404);
  });
});
