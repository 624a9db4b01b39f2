import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { pathOf, queryOf } from "../support/page-links.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError, expectInvalid } from "./expect-error.ts";

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

  it("pages a server's actions like the server list: page, page_size, links, newest first", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "paged" });
    const id = created.body.id;
    const path = `/api/v1/servers/${id}/actions/`;
    const started: number[] = [created.body.action_id];
    await waitForStatus(t.owner, id, "active");
    for (const [action, status] of [
      ["stop", "stopped"],
      ["start", "active"],
      ["stop", "stopped"],
      ["start", "active"],
    ] as const) {
      const res = await t.owner.post(`${path.replace("actions/", "")}${action}/`);
      assert.equal(res.status, 200, res.text);
      started.push(res.body.action_id);
      await waitForStatus(t.owner, id, status);
    }
    const newestFirst = [...started].reverse();

    const all = await t.owner.get(path);
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(Object.keys(all.body).sort(), ["count", "next", "previous", "results"]);
    assert.equal(all.body.count, 5);
    assert.equal(all.body.next, null);
    assert.equal(all.body.previous, null);
    assert.deepEqual(
      all.body.results.map((a: Json) => a.id),
      newestFirst,
    );

    const pages: Json[] = [];
    let res = await t.owner.get(`${path}?page_size=2`);
    for (;;) {
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 5);
      pages.push(res.body);
      if (res.body.next === null) break;
      res = await t.owner.get(pathOf(res.body.next));
    }
    assert.deepEqual(
      pages.map((p) => p.results.map((a: Json) => a.id)),
      [newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)],
    );
    assert.equal(pages[0].previous, null);
    assert.match(pages[0].next, new RegExp(`^http://127\\.0\\.0\\.1:\\d+${path}\\?`));
    assert.deepEqual(queryOf(pages[0].next), { page: "2", page_size: "2" });
    assert.deepEqual(queryOf(pages[1].previous), { page: "1", page_size: "2" });
    assert.deepEqual(queryOf(pages[2].previous), { page: "2", page_size: "2" });

    const beyond = await t.owner.get(`${path}?page=7&page_size=2`);
    assert.equal(beyond.status, 200, beyond.text);
    assert.equal(beyond.body.count, 5);
    assert.deepEqual(beyond.body.results, []);
    assert.equal(beyond.body.next, null);
    assert.deepEqual(queryOf(beyond.body.previous), { page: "3", page_size: "2" });

    expectInvalid(await t.owner.get(`${path}?page=0`), "page");
    expectInvalid(await t.owner.get(`${path}?page_size=501`), "page_size");
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
