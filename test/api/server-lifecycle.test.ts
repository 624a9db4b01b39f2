import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

describe("a server's life through the API", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("goes provisioning → active → stopped → active → rebooted → deleted with the contract's bodies", async () => {
    const created = await t.owner.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201);
    assert.equal(created.body.status, "provisioning");
    assert.equal(created.body.ip_address, null);
    assert.equal(created.body.ssh, null);
    assert.equal(created.body.message, "Server is being provisioned. This may take 2-5 minutes.");
    const id = created.body.id;
    assert.equal(created.headers.get("location"), `/api/v1/servers/${id}/`);

    const active = await waitForStatus(t.owner, id, "active");
    assert.match(active.ip_address, /^203\.0\.113\.\d+$/);
    assert.match(active.ipv6_address, /^2001:db8:1::/);
    assert.deepEqual(active.ssh, { host: active.ip_address, port: 22 }, "the sim's servers are bridged-like");

    const stop = await t.owner.post(`/api/v1/servers/${id}/stop/`);
    assert.equal(stop.status, 200);
    assert.deepEqual(stop.body, {
      status: "success",
      message: "Server is stopping",
      server: { id, name: "web-server-02", status: "stopping" },
      action_id: stop.body.action_id,
    });
    assert.ok(Number.isInteger(stop.body.action_id), "the response names the action it started");
    await waitForStatus(t.owner, id, "stopped");

    const start = await t.owner.post(`/api/v1/servers/${id}/start/`);
    assert.deepEqual(start.body, {
      status: "success",
      message: "Server is starting",
      server: { id, name: "web-server-02", status: "starting" },
      action_id: start.body.action_id,
    });
    await waitForStatus(t.owner, id, "active");

    const reboot = await t.owner.post(`/api/v1/servers/${id}/reboot/`);
    assert.deepEqual(reboot.body, {
      status: "success",
      message: "Server is rebooting",
      server: { id, name: "web-server-02", status: "rebooting" },
      action_id: reboot.body.action_id,
    });
    await waitForStatus(t.owner, id, "active");

    const deleted = await t.owner.delete(`/api/v1/servers/${id}/`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, "");
    assert.equal((await t.owner.get(`/api/v1/servers/${id}/`)).status, 404);
  });
});
