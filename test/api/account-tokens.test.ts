import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { client } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError, expectInvalid } from "./expect-error.ts";

const TOKENS = "/api/v1/account/tokens/";
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe("the account's own API tokens (/api/v1/account/tokens/)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("creates a named token shown once, which then works like any other", async () => {
    const customer = await t.newAccount();
    const created = await customer.post(TOKENS, { name: "  ci deploys " });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(Object.keys(created.body).sort(), [
      "api_token",
      "created_at",
      "id",
      "name",
      "revoked_at",
    ]);
    assert.equal(created.body.name, "ci deploys");
    assert.match(created.body.api_token, /^vps_[A-Za-z0-9_-]{40}$/);
    assert.match(created.body.created_at, TIMESTAMP);
    assert.equal(created.body.revoked_at, null);
    assert.equal(created.headers.get("location"), `${TOKENS}${created.body.id}/`);

    const ci = client(t.url, created.body.api_token);
    assert.equal((await ci.get("/api/v1/servers/")).status, 200);
    assert.equal((await ci.get("/api/v1/account/")).body.id, customer.accountId);

    const listed = await ci.get(TOKENS);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.results.map((r: { name: string }) => r.name),
      ["ci deploys", "default"],
      "newest first, the account's first token too",
    );
    assert.doesNotMatch(listed.text, /vps_/, "no token is ever listed");
    assert.doesNotMatch(listed.text, /[0-9a-f]{64}/, "nor its digest");
  });

  it("a revoked token is refused by the very next request", async () => {
    const customer = await t.newAccount();
    const created = (await customer.post(TOKENS, { name: "laptop" })).body;
    const laptop = client(t.url, created.api_token);
    assert.equal((await laptop.get("/api/v1/servers/")).status, 200);

    const revoked = await customer.delete(`${TOKENS}${created.id}/`);
    assert.equal(revoked.status, 204);
    expectError(await laptop.get("/api/v1/servers/"), 401, "unauthorized");
    expectError(await laptop.post(TOKENS, { name: "another" }), 401, "unauthorized");

    const listed = (await customer.get(TOKENS)).body.results.find((r: { id: number }) => r.id === created.id);
    assert.match(listed.revoked_at, TIMESTAMP);
    expectError(await customer.delete(`${TOKENS}${created.id}/`), 404, "not_found");
    assert.equal(
      (await customer.get("/api/v1/servers/")).status,
      200,
      "the account's other token still works",
    );
  });

  it("a token may revoke itself", async () => {
    const customer = await t.newAccount();
    const own = (await customer.get(TOKENS)).body.results[0];
    assert.equal((await customer.delete(`${TOKENS}${own.id}/`)).status, 204);
    expectError(await customer.get(TOKENS), 401, "unauthorized");
  });

  it("another account's token is a 404 and keeps working; it is never listed", async () => {
    const alice = await t.newAccount();
    const bob = await t.newAccount();
    const aliceToken = (await alice.get(TOKENS)).body.results[0];
    expectError(await bob.delete(`${TOKENS}${aliceToken.id}/`), 404, "not_found");
    assert.equal((await alice.get("/api/v1/servers/")).status, 200);
    const bobs = (await bob.get(TOKENS)).body;
    assert.equal(bobs.count, 1);
    assert.notEqual(bobs.results[0].id, aliceToken.id);
  });

  it("refuses a missing, blank or long name, and unknown fields", async () => {
    const customer = await t.newAccount();
    expectInvalid(await customer.post(TOKENS, {}), "name");
    expectInvalid(await customer.post(TOKENS, { name: "   " }), "name");
    expectInvalid(await customer.post(TOKENS, { name: "x".repeat(101) }), "name");
    expectError(await customer.post(TOKENS, { name: "ok", scope: "all" }), 400, "invalid_input");
    assert.equal((await customer.get(TOKENS)).body.count, 1, "nothing was created");
    expectError(await t.anonymous.get(TOKENS), 401, "unauthorized");
  });

  it("a retried create with its Idempotency-Key answers the same token and makes no second one", async () => {
    const customer = await t.newAccount();
    const headers = { "idempotency-key": "create-token-1" };
    const first = await customer.request("POST", TOKENS, { name: "retry" }, headers);
    const again = await customer.request("POST", TOKENS, { name: "retry" }, headers);
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.body.api_token, first.body.api_token);
    assert.equal((await customer.get(TOKENS)).body.count, 2);
  });
});
