import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("waiting for a server's status or an action's end", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  // The re-check of a wait comes every 5 s: a change announced while the request reads the server must wake it
  // before that, not be missed because the request listened only after its read.
  it("answers at the change announced while the waiting request read the server", {
    timeout: 3000,
  }, async () => {
    const created = await t.owner.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201);
    const id: number = created.body.id;
    await waitForStatus(t.owner, id, "active");

    // The read sees the server as it was before an operation's end, which commits and is announced meanwhile.
    const servers = t.app.repos.servers;
    const read = servers.findDetails.bind(servers);
    let reads = 0;
    servers.findDetails = async (accountId, serverId) => {
      const server = await read(accountId, serverId);
      if (reads++ > 0 || !server) return server;
      t.app.engine.changes.emit(serverId);
      return { ...server, status: "stopped" };
    };
    try {
      const res = await t.owner.get(`/api/v1/servers/${id}/?until_status=active&wait=30`);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, "active");
    } finally {
      servers.findDetails = read;
    }
  });

  it("answers at the action's end announced while the waiting request read the action", {
    timeout: 3000,
  }, async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "waited-action" });
    assert.equal(created.status, 201);
    const id: number = created.body.id;
    await waitForStatus(t.owner, id, "active");

    // The first read sees the create still running while its end commits and is announced meanwhile.
    const operations = t.app.repos.operations;
    const read = operations.findForAccount.bind(operations);
    let reads = 0;
    operations.findForAccount = async (accountId, actionId, hidden) => {
      const action = await read(accountId, actionId, hidden);
      if (reads++ > 0 || !action) return action;
      t.app.engine.changes.emit(action.server_id);
      return { ...action, status: "running", finished_at: null };
    };
    try {
      const res = await t.owner.get(`/api/v1/actions/${created.body.action_id}/?wait=30`);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, "success");
    } finally {
      operations.findForAccount = read;
    }
  });
});
