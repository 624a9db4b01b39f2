import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { type Client, eventually, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { FailingImageStore } from "../support/failing-image-store.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError, expectInvalid } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const IMAGES = "/api/v1/images/";

describe("snapshots, images, create from an image and rebuild", () => {
  let t: TestApp;
  let store: FailingImageStore;
  before(async () => {
    t = await startTestApp({}, undefined, (dir) => {
      store = new FailingImageStore(dir);
      return store;
    });
  });
  after(() => t.close());

  let names = 0;
  async function activeServer(api: Client = t.owner, extra: Record<string, unknown> = {}): Promise<number> {
    const res = await api.post(SERVERS, { ...SAMPLE_CREATE, name: `image-${++names}`, ...extra });
    assert.equal(res.status, 201, res.text);
    await waitForStatus(api, res.body.id, "active");
    return res.body.id;
  }
  async function stoppedServer(): Promise<number> {
    const id = await activeServer();
    assert.equal((await t.owner.post(`${SERVERS}${id}/stop/`)).status, 200);
    await waitForStatus(t.owner, id, "stopped");
    return id;
  }
  /** The action, once it has ended. */
  async function ended(api: Client, actionId: number): Promise<Json> {
    const res = await api.get(`/api/v1/actions/${actionId}/?wait=30`);
    assert.equal(res.status, 200, res.text);
    assert.notEqual(res.body.status, "running", res.text);
    return res.body;
  }
  /** A snapshot of the server, once its action ended: the action and the image as the API shows them. */
  async function snapshot(id: number, api: Client = t.owner, name?: string) {
    const res = await api.post(`${SERVERS}${id}/create_image/`, name === undefined ? {} : { name });
    assert.equal(res.status, 200, res.text);
    const action = await ended(api, res.body.action_id);
    const image = (await api.get(`${IMAGES}${res.body.image.id}/`)).body;
    return { answer: res.body, action, image };
  }
  /** The checksum of the server's disk as its machine has it now. */
  async function diskSha(id: number): Promise<string> {
    const call = { signal: AbortSignal.timeout(10_000), log: pino({ level: "silent" }) };
    const capture = await t.driver.captureDisk(String(id), call);
    await capture.release();
    return capture.sha256;
  }

  it("snapshots a running server: available, crash-consistent, with the disk's size and checksum", async () => {
    const id = await activeServer();
    const { answer, action, image } = await snapshot(id, t.owner, "before-upgrade");
    assert.equal(answer.status, "success");
    assert.equal(answer.server.id, id);
    assert.equal(answer.server.status, "active");
    assert.equal(answer.image.status, "creating");
    assert.equal(action.command, "create_image");
    assert.equal(action.status, "success");
    assert.equal(action.progress, 100);
    assert.equal(action.image_id, image.id);
    assert.equal(image.status, "available");
    assert.equal(image.type, "snapshot");
    assert.equal(image.name, "before-upgrade");
    assert.equal(image.server_id, id);
    assert.equal(image.os_id, SAMPLE_CREATE.os_id);
    assert.equal(image.disk_gb, 80);
    assert.equal(image.consistency, "crash");
    assert.ok(image.size_bytes > 0);
    assert.equal(image.sha256, await diskSha(id));
    assert.ok(image.completed_at);
    // The server ran on throughout.
    assert.equal((await t.owner.get(`${SERVERS}${id}/`)).body.status, "active");
  });

  it("snapshots a stopped server filesystem-consistent, and it stays stopped", async () => {
    const id = await stoppedServer();
    const { image } = await snapshot(id);
    assert.equal(image.status, "available");
    assert.equal(image.consistency, "filesystem");
    assert.equal((await t.owner.get(`${SERVERS}${id}/`)).body.status, "stopped");
  });

  it("lists the account's images filtered by type and server; another account sees none of them", async () => {
    const user = await t.newAccount();
    const first = await activeServer(user);
    const second = await activeServer(user);
    const a = (await snapshot(first, user)).image;
    const b = (await snapshot(second, user)).image;
    const all = (await user.get(IMAGES)).body;
    assert.equal(all.count, 2);
    assert.deepEqual(
      all.results.map((i: Json) => i.id),
      [b.id, a.id],
    );
    const ofFirst = (await user.get(`${IMAGES}?server_id=${first}`)).body;
    assert.deepEqual(
      ofFirst.results.map((i: Json) => i.id),
      [a.id],
    );
    assert.equal((await user.get(`${IMAGES}?type=backup`)).body.count, 0);
    assert.equal((await user.get(`${IMAGES}?type=snapshot`)).body.count, 2);
    const paged = (await user.get(`${IMAGES}?type=snapshot&page_size=1`)).body;
    assert.equal(paged.results.length, 1);
    assert.match(paged.next, /\/api\/v1\/images\/\?type=snapshot&page=2&page_size=1$/);
    expectInvalid(await user.get(`${IMAGES}?type=daily`), "type");

    const other = await t.newAccount();
    expectError(await other.get(`${IMAGES}${a.id}/`), 404, "not_found");
    expectError(await other.delete(`${IMAGES}${a.id}/`), 404, "not_found");
    assert.equal((await other.get(IMAGES)).body.count, 0);
    expectError(await other.post(`${SERVERS}${first}/create_image/`, {}), 404, "not_found");
    expectError(await other.post(`${SERVERS}${first}/rebuild/`, { os_id: 3 }), 404, "not_found");
    // Nor can another account build from it.
    const theirs = await activeServer(other);
    expectError(await other.post(`${SERVERS}${theirs}/rebuild/`, { image_id: a.id }), 404, "not_found");
    expectInvalid(await other.post(SERVERS, { ...SAMPLE_CREATE, image_id: a.id }), "image_id");
    assert.equal((await user.get(`${IMAGES}${a.id}/`)).body.status, "available");
  });

  it("deletes an image: gone from the list and its bytes from the store", async () => {
    const user = await t.newAccount();
    const id = await activeServer(user);
    const { image } = await snapshot(id, user);
    const prefix = `accounts/${user.accountId}/`;
    assert.equal((await t.app.store.list(prefix)).length, 1);
    const res = await user.delete(`${IMAGES}${image.id}/`);
    assert.equal(res.status, 204, res.text);
    assert.equal((await user.get(IMAGES)).body.count, 0);
    expectError(await user.get(`${IMAGES}${image.id}/`), 404, "not_found");
    expectError(await user.delete(`${IMAGES}${image.id}/`), 404, "not_found");
    assert.deepEqual(await t.app.store.list(prefix), []);
  });

  it("makes a new server from a snapshot, with the same disk", async () => {
    const id = await activeServer();
    const { image } = await snapshot(id);
    const res = await t.owner.post(SERVERS, {
      ...SAMPLE_CREATE,
      name: "from-snapshot",
      image_id: image.id,
    });
    assert.equal(res.status, 201, res.text);
    const made = await ended(t.owner, res.body.action_id);
    assert.equal(made.status, "success", JSON.stringify(made));
    assert.equal(made.image_id, image.id);
    await waitForStatus(t.owner, res.body.id, "active");
    assert.equal(await diskSha(res.body.id), image.sha256);
    assert.notEqual(await diskSha(res.body.id), await diskSha(await activeServer()));
  });

  it("rebuilds from an OS with a fresh disk, and from a snapshot with the snapshot's disk", async () => {
    const id = await activeServer();
    const { image } = await snapshot(id);
    const fresh = await t.owner.post(`${SERVERS}${id}/rebuild/`, { os_id: 3 });
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.body.server.status, "provisioning");
    assert.equal((await ended(t.owner, fresh.body.action_id)).status, "success");
    const rebuilt = await waitForStatus(t.owner, id, "active");
    assert.equal(rebuilt.os.id, 3);
    assert.equal(rebuilt.ip_address, (await t.owner.get(`${SERVERS}${id}/`)).body.ip_address);
    assert.notEqual(await diskSha(id), image.sha256);

    const back = await t.owner.post(`${SERVERS}${id}/rebuild/`, { image_id: image.id });
    assert.equal(back.status, 200, back.text);
    const action = await ended(t.owner, back.body.action_id);
    assert.equal(action.status, "success");
    assert.equal(action.command, "rebuild");
    assert.equal(action.image_id, image.id);
    const restored = await waitForStatus(t.owner, id, "active");
    assert.equal(restored.os.id, SAMPLE_CREATE.os_id);
    assert.equal(await diskSha(id), image.sha256);
  });

  it("answers a retried create_image with the same action, and makes one image", async () => {
    const user = await t.newAccount();
    const id = await activeServer(user);
    const send = () =>
      user.request(
        "POST",
        `${SERVERS}${id}/create_image/`,
        { name: "once" },
        { "Idempotency-Key": "snap-1" },
      );
    const first = await send();
    const again = await send();
    assert.equal(first.status, 200, first.text);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal(again.body.action_id, first.body.action_id);
    assert.equal(again.body.image.id, first.body.image.id);
    await ended(user, first.body.action_id);
    assert.equal((await user.get(IMAGES)).body.count, 1);
  });

  it("refuses what the server's or the image's state does not allow", async () => {
    const created = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: `image-${++names}` });
    const busy = await t.owner.post(`${SERVERS}${created.body.id}/create_image/`, {});
    expectError(busy, 400, "server_busy");
    assert.equal(busy.body.error.action_id, created.body.action_id);
    expectError(
      await t.owner.post(`${SERVERS}${created.body.id}/rebuild/`, { os_id: 3 }),
      400,
      "server_busy",
    );
    await waitForStatus(t.owner, created.body.id, "active");

    const id = created.body.id;
    expectInvalid(await t.owner.post(`${SERVERS}${id}/rebuild/`, {}), "image_id");
    expectInvalid(await t.owner.post(`${SERVERS}${id}/rebuild/`, { image_id: 1, os_id: 3 }), "image_id");
    expectInvalid(await t.owner.post(`${SERVERS}${id}/rebuild/`, { os_id: 999 }), "os_id");
    expectError(await t.owner.post(`${SERVERS}${id}/rebuild/`, { image_id: 999_999 }), 404, "not_found");

    // While it is being made (its copy failing, and retried, until the fault clears) an image can be neither
    // restored nor deleted.
    const other = await activeServer();
    t.driver.faults.inject("capture", { transient: "always" });
    const making = await t.owner.post(`${SERVERS}${id}/create_image/`, {});
    const imageId = making.body.image.id;
    expectError(
      await t.owner.post(`${SERVERS}${other}/rebuild/`, { image_id: imageId }),
      409,
      "image_not_available",
    );
    expectError(await t.owner.delete(`${IMAGES}${imageId}/`), 409, "image_not_available");
    t.driver.faults.clear();
    assert.equal((await ended(t.owner, making.body.action_id)).status, "success");

    // An 80 GB image does not fit a 25 GB plan's disk.
    const small = await activeServer(t.owner, { plan_id: 3 });
    expectError(
      await t.owner.post(`${SERVERS}${small}/rebuild/`, { image_id: imageId }),
      400,
      "image_too_large",
    );
    expectError(
      await t.owner.post(SERVERS, { ...SAMPLE_CREATE, plan_id: 3, image_id: imageId }),
      400,
      "image_too_large",
    );
    // The contract's os_id stays required; with an image it must be the image's OS.
    expectInvalid(await t.owner.post(SERVERS, { ...SAMPLE_CREATE, os_id: 3, image_id: imageId }), "os_id");
  });

  it("retries a copy while the store is unreachable, and ends with the image available", async () => {
    const id = await activeServer();
    store.failPuts = 2;
    const { action, image } = await snapshot(id);
    assert.equal(store.failPuts, 0);
    assert.equal(action.status, "success");
    assert.equal(action.attempts, 3);
    assert.equal(image.status, "available");
  });

  it("leaves the image failed, never available, when the copy fails for good", async () => {
    const id = await activeServer();
    t.driver.faults.inject("capture", { permanent: true });
    try {
      const { action, image } = await snapshot(id);
      assert.equal(action.status, "error");
      assert.equal(image.status, "failed");
      assert.equal(image.size_bytes, null);
      expectError(
        await t.owner.post(`${SERVERS}${id}/rebuild/`, { image_id: image.id }),
        409,
        "image_not_available",
      );
      assert.equal((await t.owner.get(`${SERVERS}${id}/`)).body.status, "active");
      // A failed image can be deleted.
      assert.equal((await t.owner.delete(`${IMAGES}${image.id}/`)).status, 204);
    } finally {
      t.driver.faults.clear();
    }
    await eventually(async () => ((await diskSha(id)) ? true : undefined));
  });
});
