import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startAppWithReceiver } from "../support/app-with-receiver.ts";
import { eventually } from "../support/client.ts";
import type { TestApp } from "../support/test-app.ts";
import { signedInVisitor } from "../support/web-session.ts";
import { signatureVerifies, type WebhookReceiver } from "../support/webhook-receiver.ts";

const SECRET = /value="(whsec_[A-Za-z0-9+/=]{44})"/;

describe("web console: webhooks (raw HTTP)", () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    ({ t, receiver } = await startAppWithReceiver({
      VPS_WEBHOOK_RETRY_SCHEDULE_MS: "20",
      VPS_WEBHOOK_DISABLE_AFTER_FAILURES: "1",
    }));
  });
  after(() => t?.close());

  it("adds an endpoint showing its secret once, shows it disabled with its reason, enables and deletes it", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    assert.match(await (await browser.get("/webhooks")).text(), /No webhook endpoints yet/);
    const res = await browser.post("/webhooks", {
      url: receiver.url("/page"),
      "event_action.finished": "on",
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const secret = SECRET.exec(await res.text())?.[1];
    assert.ok(secret);
    const [endpoint] = (await customer.get("/api/v1/webhooks/")).body.results;
    assert.deepEqual(endpoint.events, ["action.finished"]);
    assert.doesNotMatch(await (await browser.get("/webhooks")).text(), /whsec_/);

    // Every answer a failure: one failed delivery disables it here.
    receiver.answer = () => 500;
    await customer.post(`/api/v1/webhooks/${endpoint.id}/ping/`);
    await eventually(async () =>
      (await customer.get(`/api/v1/webhooks/${endpoint.id}/`)).body.enabled ? undefined : true,
    );
    assert.ok(signatureVerifies(secret, receiver.to("/page")[0] ?? assert.fail("nothing received")));
    const list = await (await browser.get("/webhooks")).text();
    assert.match(
      list,
      /<strong class="disabled-reason">Off since <time[^>]*>[^<]*<\/time>\. Disabled after its deliveries kept failing \(last: HTTP 500\)\.<\/strong>/,
    );
    const detail = await (await browser.get(`/webhooks/${endpoint.id}`)).text();
    assert.match(detail, /<th scope="row">ping<\/th>/);
    assert.match(detail, /<td>500, 500<\/td>/);

    receiver.answer = () => 200;
    await browser.get("/webhooks");
    const enabled = await browser.post(`/webhooks/${endpoint.id}/enable`, {});
    assert.equal(enabled.status, 303);
    assert.equal((await customer.get(`/api/v1/webhooks/${endpoint.id}/`)).body.enabled, true);

    // The failed ping sent again from its row: the same webhook-id, delivered this time.
    const failed = (await customer.get(`/api/v1/webhooks/${endpoint.id}/deliveries/`)).body.results[0];
    assert.match(detail, new RegExp(`action="/webhooks/${endpoint.id}/deliveries/${failed.id}/redeliver"`));
    const redelivered = await browser.post(`/webhooks/${endpoint.id}/deliveries/${failed.id}/redeliver`, {});
    assert.equal(redelivered.status, 303);
    assert.equal(redelivered.headers.get("location"), `/webhooks/${endpoint.id}`);
    const resent = await eventually(async () => receiver.to("/page")[2]);
    assert.equal(resent.headers["webhook-id"], failed.webhook_id);
    const shown = await eventually(async () => {
      const page = await (await browser.get(`/webhooks/${endpoint.id}`)).text();
      return /<td>succeeded<\/td>/.test(page) ? page : undefined;
    });
    assert.match(shown, /\(sent again\)/);

    // And a ping from the page's button.
    const pinged = await browser.post(`/webhooks/${endpoint.id}/ping`, {});
    assert.equal(pinged.status, 303);
    await eventually(async () => receiver.to("/page")[3]);
    const deleted = await browser.post(`/webhooks/${endpoint.id}/delete`, {});
    assert.equal(deleted.status, 303);
    assert.equal((await customer.get(`/api/v1/webhooks/${endpoint.id}/`)).status, 404);
  });

  it("refuses a bad URL with its code, another account's endpoint is a 404, and a form without its CSRF token is refused", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    await browser.get("/webhooks");
    const bad = await browser.post("/webhooks", {
      url: "ftp://example.com/x",
      event_ping: "on",
      "event_balance.low": "on",
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /\(webhook_url_invalid\)/);

    const other = await t.newAccount();
    const created = await other.post("/api/v1/webhooks/", {
      url: receiver.url("/other"),
      events: ["balance.low"],
    });
    assert.equal((await browser.get(`/webhooks/${created.body.id}`)).status, 404);
    await browser.get("/webhooks");
    assert.equal((await browser.post(`/webhooks/${created.body.id}/delete`, {})).status, 404);
    assert.equal(
      (await browser.post(`/webhooks/${created.body.id}/enable`, { _csrf: "forged" })).status,
      403,
    );
    assert.equal((await other.get(`/api/v1/webhooks/${created.body.id}/`)).status, 200);
  });
});
