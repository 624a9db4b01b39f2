import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

describe("actions: what each request started", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_SIM_DELAY_MS: "200" });
  });
  after(() => t.close());

  const action = (id: number) => t.owner.get(`/api/v1/actions/${id}/`);
  const finished = (id: number) =>
    eventually(async () => {
      const res = await action(id);
      return res.body.status === "running" ? undefined : res.body;
    }, 10_000);

  it("follows a create from running to success", async () => {
    const created = await t.owner.post("/api/v1/servers/", SAMPLE_CREATE);
    const running = await action(created.body.action_id);
    assert.equal(running.status, 200);
    assert.equal(running.body.command, "create");
    assert.equal(running.body.status, "running");
    assert.equal(running.body.server_id, created.body.id);
    assert.equal(running.body.finished_at, null);
    assert.ok([0, 50].includes(running.body.progress));

    const done = await finished(created.body.action_id);
    assert.equal(done.status, "success");
    assert.equal(done.progress, 100);
    assert.equal(done.error, null);
    assert.match(done.finished_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("lists a server's actions newest first", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "listed" });
    await waitForStatus(t.owner, created.body.id, "active");
    const stop = await t.owner.post(`/api/v1/servers/${created.body.id}/stop/`);
    const list = await t.owner.get(`/api/v1/servers/${created.body.id}/actions/`);
    assert.equal(list.status, 200);
    assert.equal(list.body.count, 2);
    assert.deepEqual(
      list.body.results.map((a: { id: number; command: string }) => [a.id, a.command]),
      [
        [stop.body.action_id, "stop"],
        [created.body.action_id, "create"],
      ],
    );
  });

  it("names the action in flight when a request meets a busy server", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "busy" });
    const refused = await t.owner.post(`/api/v1/servers/${created.body.id}/start/`);
    expectError(refused, 400, "server_busy");
    assert.equal(refused.body.error.action_id, created.body.action_id);
  });

  it("reports a failed action with the reason", async () => {
    t.driver.faults.inject("create", { permanent: true });
    try {
      const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "doomed" });
      const done = await finished(created.body.action_id);
      assert.equal(done.status, "error");
      assert.equal(done.error.code, "sim_fault");
      assert.match(done.error.message, /injected permanent create failure/);
    } finally {
      t.driver.faults.clear();
    }
  });

  it("keeps a delete's action readable after the server is gone", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "gone" });
    await waitForStatus(t.owner, created.body.id, "active");
    const deleted = await t.owner.delete(`/api/v1/servers/${created.body.id}/`);
    const actionId = Number(deleted.headers.get("action-id"));
    assert.ok(actionId > 0, "the Action-Id header names the delete");
    const done = await finished(actionId);
    assert.deepEqual([done.command, done.status, done.server_id], ["delete", "success", created.body.id]);
    expectError(await t.owner.get(`/api/v1/servers/${created.body.id}/actions/`), 404, "not_found");
  });

  it("shows an account only its own actions", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "mine" });
    const other = await t.newAccount();
    expectError(await other.get(`/api/v1/actions/${created.body.action_id}/`), 404, "not_found");
    expectError(await other.get(`/api/v1/servers/${created.body.id}/actions/`), 404, "not_found");
    expectError(await t.owner.get("/api/v1/actions/999999/"), 404, "not_found");
    expectError(await t.owner.get("/api/v1/actions/abc/"), 404, "not_found");
  });
});
