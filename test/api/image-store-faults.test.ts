import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { ImageStoreCall } from "../../src/store/image-store.ts";
import { S3ImageStore } from "../../src/store/s3-image-store.ts";
import { type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { ImageStoreWrapper } from "../support/image-store-wrapper.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const IMAGES = "/api/v1/images/";

/**
 * The S3 kind against a real S3-protocol server (s3rver, its own process), whose process this store kills while
 * an upload streams, as a crash or a cut cable would; `restart` starts it again once that upload has failed.
 */
class StoreThatLosesItsServer extends ImageStoreWrapper {
  killDuringNextPut = false;
  restart = false;
  readonly #s3: S3Server;
  constructor(s3: S3Server) {
    super(new S3ImageStore(s3.settings("images/")));
    this.#s3 = s3;
  }

  override async put(key: string, bytes: AsyncIterable<Uint8Array>, call: ImageStoreCall) {
    const s3 = this.#s3;
    const kill = this.killDuringNextPut;
    this.killDuringNextPut = false;
    async function* cut(): AsyncIterable<Uint8Array> {
      let first = true;
      for await (const chunk of bytes) {
        yield chunk;
        if (first && kill) await s3.kill();
        first = false;
      }
    }
    try {
      return await this.inner.put(key, cut(), call);
    } catch (error) {
      if (kill && this.restart) await s3.start();
      throw error;
    }
  }
}

describe("image store faults: the S3 server stops during an upload", () => {
  let s3: S3Server;
  let store: StoreThatLosesItsServer;
  let t: TestApp;
  before(async () => {
    s3 = await startS3Server();
    t = await startTestApp({ VPS_MAX_ATTEMPTS: "3" }, undefined, () => {
      store = new StoreThatLosesItsServer(s3);
      return store;
    });
  });
  after(async () => {
    await t?.close();
    await s3?.stop();
  });

  let names = 0;
  async function activeServer(extra: Record<string, unknown> = {}): Promise<number> {
    const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: `s3-fault-${++names}`, ...extra });
    assert.equal(res.status, 201, res.text);
    await waitForStatus(t.owner, res.body.id, "active");
    return res.body.id;
  }
  async function ended(actionId: number): Promise<Json> {
    for (;;) {
      const action = (await t.owner.get(`/api/v1/actions/${actionId}/?wait=30`)).body;
      if (action.status !== "pending" && action.status !== "running") return action;
    }
  }
  const diskSha = async (id: number) => {
    const capture = await t.driver.captureDisk(String(id), {
      signal: AbortSignal.timeout(10_000),
      log: pino({ level: "silent" }),
    });
    await capture.release();
    return capture.sha256;
  };

  it("retries the snapshot once the server is back: the image is available, whole, and restores", async () => {
    const id = await activeServer();
    store.killDuringNextPut = true;
    store.restart = true;
    const res = await t.owner.post(`${SERVERS}${id}/create_image/`, { name: "through-a-crash" });
    assert.equal(res.status, 200, res.text);
    const action = await ended(res.body.action_id);
    assert.equal(action.status, "success", JSON.stringify(action));
    assert.equal(action.attempts, 2, "the upload cut short failed, and its retry succeeded");
    const image = (await t.owner.get(`${IMAGES}${res.body.image.id}/`)).body;
    assert.equal(image.status, "available");
    // What the store holds is the disk, checksum and all: a server made from it has the same disk.
    const restored = await activeServer({ image_id: image.id });
    assert.equal(await diskSha(restored), image.sha256);
  });

  it("ends in a clear error when the server stays down: the image is failed, never listed as available", async () => {
    const id = await activeServer();
    store.killDuringNextPut = true;
    store.restart = false;
    const res = await t.owner.post(`${SERVERS}${id}/create_image/`, { name: "store-gone" });
    assert.equal(res.status, 200, res.text);
    const imageId = res.body.image.id;
    // While it retries, the image is being made, not available.
    assert.equal((await t.owner.get(`${IMAGES}${imageId}/`)).body.status, "creating");
    const action = await ended(res.body.action_id);
    assert.equal(action.status, "error", JSON.stringify(action));
    assert.equal(action.error.code, "store_unavailable");
    assert.equal(action.attempts, 3);
    const image = (await t.owner.get(`${IMAGES}${imageId}/`)).body;
    assert.equal(image.status, "failed");
    const listed = (await t.owner.get(`${IMAGES}?type=snapshot`)).body;
    assert.deepEqual(
      listed.results.filter((i: Json) => i.status === "available").map((i: Json) => i.name),
      ["through-a-crash"],
    );
    const fromIt = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: "from-failed", image_id: imageId });
    expectError(fromIt, 409, "image_not_available");
    // Back up again, the store holds no image under its key: nothing half-written was kept.
    await s3.start();
    assert.equal((await store.list("accounts/")).length, 1, "only the first test's image is whole");
  });
});
