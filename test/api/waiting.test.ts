import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_CREATE } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

describe("waiting for an action or a status instead of polling", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_SIM_DELAY_MS: "300", VPS_POLL_MS: "60000" });
  });
  after(() => t.close());

  it("answers a wait on an action once it has ended, in one request", async () => {
    const created = await t.owner.post("/api/v1/servers/", SAMPLE_CREATE);
    const waited = await t.owner.get(`/api/v1/actions/${created.body.action_id}/?wait=30`);
    assert.equal(waited.status, 200);
    assert.equal(waited.body.status, "success");
    assert.equal(waited.body.progress, 100);
  });

  it("answers a wait on a server once it has the status asked for", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "awaited" });
    const active = await t.owner.get(`/api/v1/servers/${created.body.id}/?until_status=active&wait=30`);
    assert.equal(active.body.status, "active");
    await t.owner.post(`/api/v1/servers/${created.body.id}/stop/`);
    const stopped = await t.owner.get(`/api/v1/servers/${created.body.id}/?until_status=stopped&wait=30`);
    assert.equal(stopped.body.status, "stopped");
  });

  it("answers when the time is up with the state as it is", async () => {
    const slow = await startTestApp({ VPS_SIM_DELAY_MS: "20000", VPS_SHUTDOWN_GRACE_MS: "0" });
    try {
      const created = await slow.owner.post("/api/v1/servers/", SAMPLE_CREATE);
      const action = await slow.owner.get(`/api/v1/actions/${created.body.action_id}/?wait=1`);
      assert.equal(action.body.status, "running");
      const server = await slow.owner.get(`/api/v1/servers/${created.body.id}/?until_status=active&wait=1`);
      assert.equal(server.body.status, "provisioning");
    } finally {
      await slow.close();
    }
  });

  it("refuses a wait longer than 60 seconds, or on a server with no status to wait for", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "bounds" });
    expectError(
      await t.owner.get(`/api/v1/actions/${created.body.action_id}/?wait=61`),
      400,
      "invalid_input",
      ["wait"],
    );
    expectError(await t.owner.get(`/api/v1/servers/${created.body.id}/?wait=5`), 400, "invalid_input", [
      "until_status",
    ]);
    expectError(
      await t.owner.get(`/api/v1/servers/${created.body.id}/?until_status=sleeping&wait=5`),
      400,
      "invalid_input",
      ["until_status"],
    );
  });
});
