import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { makeKeyPair } from "../support/ssh.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

/** Spellings a number parser reads as `id` that are not the id's path: hex, a fraction, a leading zero... */
function otherSpellings(id: number): string[] {
  return [`0x${id.toString(16)}`, `${id}.0`, `0${id}`, `+${id}`, `%20${id}`, `${id / 1000}e3`, `${id}e0`];
}

describe("ids in paths", () => {
  let t: TestApp;
  let customer: Client & { accountId: number };
  let serverId: number;
  let actionId: number;
  let keyId: number;
  let tokenId: number;
  before(async () => {
    t = await startTestApp();
    customer = await t.newAccount("50.00");
    const created = await customer.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201, created.text);
    serverId = created.body.id;
    actionId = created.body.action_id;
    await waitForStatus(customer, serverId, "active");
    const key = await customer.post("/api/v1/ssh-keys/", {
      name: "laptop",
      public_key: (await makeKeyPair()).publicKey,
    });
    assert.equal(key.status, 201, key.text);
    keyId = key.body.id;
    const token = await t.admin.post(`/api/v1/admin/accounts/${customer.accountId}/tokens/`, { name: "ci" });
    assert.equal(token.status, 201, token.text);
    tokenId = token.body.id;
  });
  after(() => t.close());

  it("the server 12345 is found at its canonical path only", async () => {
    assert.equal(serverId, 12345);
    assert.equal((await customer.get("/api/v1/servers/12345/")).status, 200);
    for (const spelling of ["0x3039", "12345.0", "012345", "+12345", "%2012345", "12.345e3", "12345e0"]) {
      expectError(await customer.get(`/api/v1/servers/${spelling}/`), 404, "not_found");
    }
  });

  it("reads: a server's actions, an action, an SSH key", async () => {
    const paths = [
      (id: string) => `/api/v1/servers/${id}/actions/`,
      (id: string) => `/api/v1/actions/${id}/`,
    ];
    for (const path of paths) {
      const id = path === paths[0] ? serverId : actionId;
      assert.equal((await customer.get(path(String(id)))).status, 200);
      for (const spelling of otherSpellings(id)) {
        expectError(await customer.get(path(spelling)), 404, "not_found");
      }
    }
    assert.equal((await customer.get(`/api/v1/ssh-keys/${keyId}/`)).status, 200);
    for (const spelling of otherSpellings(keyId)) {
      expectError(await customer.get(`/api/v1/ssh-keys/${spelling}/`), 404, "not_found");
    }
  });

  it("writes through another spelling change nothing: updates, power actions and deletes", async () => {
    for (const spelling of otherSpellings(serverId)) {
      const server = `/api/v1/servers/${spelling}/`;
      expectError(await customer.patch(server, { name: "renamed" }), 404, "not_found");
      expectError(
        await customer.put(server, { name: "renamed", hostname: "r.example.com", backups_enabled: false }),
        404,
        "not_found",
      );
      expectError(await customer.post(`${server}stop/`), 404, "not_found");
      expectError(await customer.delete(server), 404, "not_found");
      expectError(
        await customer.patch(`/api/v1/ssh-keys/${spelling}/`, { name: "renamed" }),
        404,
        "not_found",
      );
    }
    for (const spelling of otherSpellings(keyId)) {
      expectError(await customer.delete(`/api/v1/ssh-keys/${spelling}/`), 404, "not_found");
    }
    const server = await customer.get(`/api/v1/servers/${serverId}/`);
    assert.equal(server.body.name, SAMPLE_CREATE.name);
    assert.equal(server.body.status, "active");
    assert.equal((await customer.get(`/api/v1/ssh-keys/${keyId}/`)).body.name, "laptop");
  });

  it("admin: accounts, their credit and their tokens", async () => {
    const account = customer.accountId;
    const before = await t.admin.get(`/api/v1/admin/accounts/${account}/`);
    assert.equal(before.status, 200);
    for (const spelling of otherSpellings(account)) {
      const path = `/api/v1/admin/accounts/${spelling}/`;
      expectError(await t.admin.get(path), 404, "not_found");
      expectError(await t.admin.post(`${path}credit/`, { amount: "10.00" }), 404, "not_found");
      expectError(await t.admin.post(`${path}tokens/`, { name: "other" }), 404, "not_found");
      expectError(await t.admin.delete(`${path}tokens/${tokenId}/`), 404, "not_found");
    }
    for (const spelling of otherSpellings(tokenId)) {
      expectError(
        await t.admin.delete(`/api/v1/admin/accounts/${account}/tokens/${spelling}/`),
        404,
        "not_found",
      );
    }
    assert.equal((await t.admin.get(`/api/v1/admin/accounts/${account}/`)).body.balance, before.body.balance);
    // The token is still valid: no other spelling revoked it.
    assert.equal((await t.admin.delete(`/api/v1/admin/accounts/${account}/tokens/${tokenId}/`)).status, 204);
  });

  it("an id beyond the safe integers is a 404, not a rounded neighbour", async () => {
    expectError(await customer.get("/api/v1/servers/9007199254740993/"), 404, "not_found");
    expectError(await customer.get("/api/v1/servers/99999999999999999999/"), 404, "not_found");
  });
});
