import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";

// On PostgreSQL the details asked for at the same moment are read in one statement: each request must still get
// its own account's server, and a 404 for anyone else's, whatever else is read with it.
describe("a server's detail, read by several accounts at once", () => {
  let t: TestApp;
  const accounts: { api: Client; servers: Json[] }[] = [];

  before(async () => {
    t = await startTestApp();
    for (let a = 0; a < 3; a++) {
      const api = await t.newAccount("50.00");
      const servers: Json[] = [];
      for (let s = 0; s < 2; s++) {
        const created = await api.post(SERVERS, { ...SAMPLE_CREATE, name: `account-${a}-server-${s}` });
        assert.equal(created.status, 201, created.text);
        servers.push(await waitForStatus(api, created.body.id, "active"));
      }
      accounts.push({ api, servers });
    }
  });
  after(() => t.close());

  it("answers each request with its own server, and 404 for another account's or a missing one", async () => {
    const mine = accounts.flatMap(({ api, servers }) =>
      servers.map((server) => async () => {
        const res = await api.get(`${SERVERS}${server.id}/`);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.id, server.id);
        assert.equal(res.body.name, server.name);
      }),
    );
    const theirs = accounts.flatMap(({ api }, a) =>
      (accounts[(a + 1) % accounts.length]?.servers ?? []).map(
        (server) => async () => expectError(await api.get(`${SERVERS}${server.id}/`), 404, "not_found"),
      ),
    );
    // Ids no server has, the last two beyond what PostgreSQL's integer column holds: a 404, not a failed read.
    const [first] = accounts;
    assert.ok(first);
    const missing = [987654, 2 ** 31, Number.MAX_SAFE_INTEGER].map(
      (id) => async () => expectError(await first.api.get(`${SERVERS}${id}/`), 404, "not_found"),
    );
    for (let round = 0; round < 5; round++) {
      await Promise.all([...mine, ...theirs, ...missing].map((read) => read()));
    }
  });

  it("shows each client its own write at once, while the others read", async () => {
    await Promise.all(
      accounts.map(async ({ api, servers }, a) => {
        const [server] = servers;
        const others = accounts[(a + 1) % accounts.length]?.servers[1];
        for (let round = 0; round < 5; round++) {
          const name = `account-${a}-renamed-${round}`;
          const renamed = await api.patch(`${SERVERS}${server.id}/`, { name });
          assert.equal(renamed.status, 200, renamed.text);
          const [read, foreign] = await Promise.all([
            api.get(`${SERVERS}${server.id}/`),
            api.get(`${SERVERS}${others.id}/`),
          ]);
          assert.equal(read.body.name, name);
          expectError(foreign, 404, "not_found");
        }
        const stopped = await api.post(`${SERVERS}${server.id}/stop/`);
        assert.equal(stopped.status, 200, stopped.text);
        const read = await api.get(`${SERVERS}${server.id}/`);
        assert.notEqual(read.body.status, "active");
      }),
    );
  });
});
