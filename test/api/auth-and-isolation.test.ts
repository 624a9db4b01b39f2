import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { ADMIN_TOKEN, OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";

function ed25519PublicKey(): string {
  const dir = mkdtempSync(join(tmpdir(), "vps-key-"));
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "a@example", "-f", join(dir, "key")]);
    return readFileSync(join(dir, "key.pub"), "utf8").trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Endpoint = [method: string, path: string, body?: unknown];

/** Every customer endpoint, with a body where it takes one, on a real server and SSH key. */
const customerEndpoints = (serverId: number, keyId: number): Endpoint[] => [
  ["GET", SERVERS],
  ["POST", SERVERS, SAMPLE_CREATE],
  ["GET", `${SERVERS}${serverId}/`],
  ["PUT", `${SERVERS}${serverId}/`, { name: "x", hostname: "x.example.com", backups_enabled: false }],
  ["PATCH", `${SERVERS}${serverId}/`, { name: "x" }],
  ["DELETE", `${SERVERS}${serverId}/`],
  ["POST", `${SERVERS}${serverId}/start/`],
  ["POST", `${SERVERS}${serverId}/stop/`],
  ["POST", `${SERVERS}${serverId}/reboot/`],
  ["GET", "/api/v1/plans/"],
  ["GET", "/api/v1/os/"],
  ["GET", "/api/v1/locations/"],
  ["GET", "/api/v1/account/"],
  ["GET", "/api/v1/ssh-keys/"],
  ["POST", "/api/v1/ssh-keys/", { name: "k", public_key: "ssh-ed25519 AAAA" }],
  ["GET", `/api/v1/ssh-keys/${keyId}/`],
  ["PATCH", `/api/v1/ssh-keys/${keyId}/`, { name: "renamed" }],
  ["PUT", `/api/v1/ssh-keys/${keyId}/`, { name: "renamed" }],
  ["DELETE", `/api/v1/ssh-keys/${keyId}/`],
];

const ADMIN_ENDPOINTS: Endpoint[] = [
  ["GET", "/api/v1/admin/accounts/"],
  ["POST", "/api/v1/admin/accounts/", { email: "intruder@example.com", credit: "1000.00" }],
  ["GET", "/api/v1/admin/accounts/1/"],
  ["POST", "/api/v1/admin/accounts/1/credit/", { amount: "1000.00" }],
  ["POST", "/api/v1/admin/accounts/1/tokens/", { name: "stolen" }],
  ["DELETE", "/api/v1/admin/accounts/1/tokens/1/"],
  ["POST", "/api/v1/admin/plans/", {}],
  ["POST", "/api/v1/admin/os/", {}],
  ["POST", "/api/v1/admin/locations/", {}],
  ["POST", "/api/v1/admin/locations/us-west/addresses/", { cidr: "198.18.0.0/30" }],
];

describe("authentication and tenant isolation", () => {
  let t: TestApp;
  let serverOfA: Json;
  let keyOfA: Json;
  let b: Client & { accountId: number };

  before(async () => {
    t = await startTestApp();
    const key = await t.owner.post("/api/v1/ssh-keys/", { name: "a-key", public_key: ed25519PublicKey() });
    assert.equal(key.status, 201, key.text);
    keyOfA = key.body;
    const created = await t.owner.post(SERVERS, {
      ...SAMPLE_CREATE,
      name: "a-server",
      ssh_key_id: keyOfA.id,
    });
    assert.equal(created.status, 201, created.text);
    serverOfA = await waitForStatus(t.owner, created.body.id, "active");
    b = await t.newAccount("50.00");
  });
  after(() => t.close());

  /** Sends `endpoints` with this Authorization header (or none) and expects a 401 in the error shape from each. */
  async function expectAllUnauthorized(
    authorization: string | undefined,
    endpoints = customerEndpoints(serverOfA.id, keyOfA.id),
  ) {
    const api = client(t.url, undefined);
    for (const [method, path, body] of endpoints) {
      const headers: Record<string, string> =
        authorization === undefined ? {} : { Authorization: authorization };
      const res = await api.request(method, path, body, headers);
      assert.equal(res.status, 401, `${method} ${path} with ${authorization}: ${res.status} ${res.text}`);
      expectError(res, 401, "unauthorized");
    }
  }

  describe("a customer endpoint answers 401 in the error shape", () => {
    it("without an Authorization header", async () => {
      await expectAllUnauthorized(undefined);
    });

    it("with Bearer and no token", async () => {
      await expectAllUnauthorized("Bearer");
      await expectAllUnauthorized("Bearer ", customerEndpoints(serverOfA.id, keyOfA.id).slice(0, 3));
    });

    it("with Basic credentials", async () => {
      await expectAllUnauthorized("Basic xyz");
      await expectAllUnauthorized(`Basic ${Buffer.from(`owner:${OWNER_TOKEN}`).toString("base64")}`);
    });

    it("with an unknown token", async () => {
      await expectAllUnauthorized("Bearer not-a-real-token-0123456789");
      await expectAllUnauthorized(
        `Bearer ${OWNER_TOKEN}x`,
        customerEndpoints(serverOfA.id, keyOfA.id).slice(0, 3),
      );
      await expectAllUnauthorized(OWNER_TOKEN, customerEndpoints(serverOfA.id, keyOfA.id).slice(0, 3));
    });

    it("with a token the admin has revoked", async () => {
      const issued = await t.admin.post(`/api/v1/admin/accounts/${b.accountId}/tokens/`, { name: "ci" });
      assert.equal(issued.status, 201, issued.text);
      assert.equal(issued.body.name, "ci");
      const ci = client(t.url, issued.body.api_token);
      assert.equal((await ci.get("/api/v1/account/")).body.id, b.accountId);

      const revoked = await t.admin.delete(`/api/v1/admin/accounts/${b.accountId}/tokens/${issued.body.id}/`);
      assert.equal(revoked.status, 204, revoked.text);
      await expectAllUnauthorized(`Bearer ${issued.body.api_token}`);
      // The account's other token is untouched.
      assert.equal((await b.get("/api/v1/account/")).status, 200);
      expectError(
        await t.admin.delete(`/api/v1/admin/accounts/${b.accountId}/tokens/${issued.body.id}/`),
        404,
        "not_found",
      );
    });

    it("with the admin token, which is not a customer token", async () => {
      await expectAllUnauthorized(
        `Bearer ${ADMIN_TOKEN}`,
        customerEndpoints(serverOfA.id, keyOfA.id).slice(0, 3),
      );
    });

    it("and the request changed nothing", async () => {
      const server = (await t.owner.get(`${SERVERS}${serverOfA.id}/`)).body;
      assert.equal(server.name, "a-server");
      assert.equal(server.status, "active");
      assert.equal((await t.owner.get(`/api/v1/ssh-keys/${keyOfA.id}/`)).body.name, "a-key");
      assert.equal((await t.owner.get(SERVERS)).body.count, 1);
      assert.equal((await t.owner.get("/api/v1/ssh-keys/")).body.count, 1);
    });
  });

  describe("another account", () => {
    it("gets 404 for A's server on every server endpoint", async () => {
      const path = `${SERVERS}${serverOfA.id}/`;
      expectError(await b.get(path), 404, "not_found");
      expectError(
        await b.put(path, { name: "taken", hostname: "t.example.com", backups_enabled: false }),
        404,
        "not_found",
      );
      expectError(await b.patch(path, { name: "taken" }), 404, "not_found");
      expectError(await b.patch(path, {}), 404, "not_found");
      for (const action of ["start", "stop", "reboot"]) {
        expectError(await b.post(`${path}${action}/`), 404, "not_found");
      }
      expectError(await b.delete(path), 404, "not_found");
    });

    it("answers exactly as for a server that does not exist", async () => {
      const theirs = await b.get(`${SERVERS}${serverOfA.id}/`);
      const nobody = await b.get(`${SERVERS}987654/`);
      assert.deepEqual(theirs.body, nobody.body);
    });

    it("leaves A's server as it was", async () => {
      const server = (await t.owner.get(`${SERVERS}${serverOfA.id}/`)).body;
      assert.equal(server.name, "a-server");
      assert.equal(server.status, "active");
      assert.equal(server.hostname, SAMPLE_CREATE.hostname);
    });

    it("does not see A's server in its list, with any filter", async () => {
      for (const query of ["", "?status=active", "?location=us-west", "?page_size=500"]) {
        const res = await b.get(`${SERVERS}${query}`);
        assert.equal(res.status, 200);
        assert.equal(res.body.count, 0, query);
        assert.deepEqual(res.body.results, []);
      }
      const own = await b.post(SERVERS, { ...SAMPLE_CREATE, name: "b-server" });
      assert.equal(own.status, 201, own.text);
      const list = await b.get(SERVERS);
      assert.deepEqual(
        list.body.results.map((s: Json) => s.id),
        [own.body.id],
      );
      const ownersList = await t.owner.get(SERVERS);
      assert.ok(!ownersList.body.results.some((s: Json) => s.id === own.body.id));
      expectError(await t.owner.get(`${SERVERS}${own.body.id}/`), 404, "not_found");
    });

    it("cannot build a server with A's SSH key", async () => {
      const res = await b.post(SERVERS, { ...SAMPLE_CREATE, name: "b-with-a-key", ssh_key_id: keyOfA.id });
      expectError(res, 400, "invalid_input", ["ssh_key_id"], { exactFields: true });
    });

    it("cannot see, rename or delete A's SSH key", async () => {
      const path = `/api/v1/ssh-keys/${keyOfA.id}/`;
      expectError(await b.get(path), 404, "not_found");
      expectError(await b.patch(path, { name: "mine" }), 404, "not_found");
      expectError(await b.delete(path), 404, "not_found");
      assert.equal((await b.get("/api/v1/ssh-keys/")).body.count, 0);
      assert.equal((await t.owner.get(path)).body.name, "a-key");
    });

    it("sees its own account, not A's", async () => {
      const mine = await b.get("/api/v1/account/");
      assert.equal(mine.body.id, b.accountId);
      assert.notEqual((await t.owner.get("/api/v1/account/")).body.id, b.accountId);
    });
  });

  describe("the admin API", () => {
    it("rejects customer tokens and anonymous requests with 401", async () => {
      const balanceBefore = (await t.owner.get("/api/v1/account/")).body.balance;
      await expectAllUnauthorized(`Bearer ${OWNER_TOKEN}`, ADMIN_ENDPOINTS);
      await expectAllUnauthorized(`Bearer ${b.token}`, ADMIN_ENDPOINTS);
      await expectAllUnauthorized(undefined, ADMIN_ENDPOINTS);
      await expectAllUnauthorized("Bearer wrong-admin-token-0123456789", ADMIN_ENDPOINTS);
      // Nothing the rejected calls asked for happened.
      const accounts = await t.admin.get("/api/v1/admin/accounts/");
      assert.ok(!accounts.body.results.some((a: Json) => a.email === "intruder@example.com"));
      assert.equal((await t.owner.get("/api/v1/account/")).body.balance, balanceBefore);
    });

    it("accepts the admin token", async () => {
      const accounts = await t.admin.get("/api/v1/admin/accounts/");
      assert.equal(accounts.status, 200, accounts.text);
      assert.ok(accounts.body.count >= 2);
      const account = await t.admin.get(`/api/v1/admin/accounts/${b.accountId}/`);
      assert.equal(account.status, 200, account.text);
      assert.equal(account.body.id, b.accountId);
    });
  });

  describe("stored tokens", () => {
    it("are kept as digests: no token appears in api_tokens or in the database files", async () => {
      const issued = await t.admin.post(`/api/v1/admin/accounts/${b.accountId}/tokens/`, { name: "plain" });
      const tokens = [OWNER_TOKEN, ADMIN_TOKEN, b.token as string, issued.body.api_token as string];

      const rows = await t.app.services.repos.db.selectFrom("api_tokens").selectAll().execute();
      assert.ok(rows.length >= 3);
      const dump = JSON.stringify(rows);
      for (const token of tokens) assert.ok(!dump.includes(token), "a raw token is stored in api_tokens");
      for (const row of rows) assert.match(row.token_hash, /^[0-9a-f]{64}$/);
      const settings = JSON.stringify(
        await t.app.services.repos.db.selectFrom("settings").selectAll().execute(),
      );
      assert.ok(!settings.includes(ADMIN_TOKEN), "the admin token is stored in settings");

      for (const file of ["vps.db", "vps.db-wal"].map((f) => join(t.dir, f)).filter(existsSync)) {
        const bytes = readFileSync(file);
        for (const token of tokens) assert.equal(bytes.indexOf(token), -1, `a raw token is in ${file}`);
      }
    });
  });
});
