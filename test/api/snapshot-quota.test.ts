import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const IMAGES = "/api/v1/images/";

describe("the snapshot limit of an account (VPS_SNAPSHOT_LIMIT)", () => {
  let t: TestApp;
  const servers: number[] = [];
  before(async () => {
    t = await startTestApp({ VPS_SNAPSHOT_LIMIT: "2" });
    for (let i = 0; i < 4; i++) {
      const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: `quota-${i}` });
      assert.equal(res.status, 201, res.text);
      await waitForStatus(t.owner, res.body.id, "active");
      servers.push(res.body.id);
    }
  });
  after(() => t.close());

  const snapshot = (id: number) => t.owner.post(`${SERVERS}${id}/create_image/`, {});
  const ended = async (actionId: number) => (await t.owner.get(`/api/v1/actions/${actionId}/?wait=30`)).body;

  it("takes as many concurrent snapshots as the limit allows and refuses the rest with 403 image_quota_exceeded", async () => {
    const answers = await Promise.all(servers.map((id) => snapshot(id)));
    const accepted = answers.filter((res) => res.status === 200);
    assert.equal(accepted.length, 2, answers.map((res) => res.text).join("\n"));
    for (const res of answers.filter((r) => r.status !== 200)) expectError(res, 403, "image_quota_exceeded");
    for (const res of accepted) assert.equal((await ended(res.body.action_id)).status, "success");
    const listed = (await t.owner.get(`${IMAGES}?type=snapshot`)).body;
    assert.equal(listed.count, 2);
  });

  it("counts neither deleted nor failed snapshots, and another account has a limit of its own", async () => {
    const listed = (await t.owner.get(`${IMAGES}?type=snapshot`)).body.results;
    expectError(await snapshot(servers[0] as number), 403, "image_quota_exceeded");
    assert.equal((await t.owner.delete(`${IMAGES}${listed[0].id}/`)).status, 204);
    // A copy that fails for good leaves a failed image, which does not count.
    t.driver.faults.inject("capture", { permanent: true });
    try {
      const failing = await snapshot(servers[0] as number);
      assert.equal(failing.status, 200, failing.text);
      assert.equal((await ended(failing.body.action_id)).status, "error");
    } finally {
      t.driver.faults.clear();
    }
    const again = await snapshot(servers[0] as number);
    assert.equal(again.status, 200, again.text);
    assert.equal((await ended(again.body.action_id)).status, "success");

    const other = await t.newAccount();
    const theirs = await other.post(SERVERS, { ...SAMPLE_CREATE, name: "theirs" });
    assert.equal(theirs.status, 201, theirs.text);
    await waitForStatus(other, theirs.body.id, "active");
    const res = await other.post(`${SERVERS}${theirs.body.id}/create_image/`, {});
    assert.equal(res.status, 200, res.text);
  });
});
