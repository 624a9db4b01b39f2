import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { S3ImageStore } from "../../src/store/s3-image-store.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { call, diskBytes, imageStoreContract, sha256Of } from "./image-store-contract.ts";

let server: S3Server;
before(async () => {
  server = await startS3Server();
});
after(() => server.stop());

let stores = 0;
/** A store of its own: a prefix of the one bucket. */
function newStore(): { prefix: string; store: S3ImageStore } {
  const prefix = `store-${++stores}/`;
  return { prefix, store: new S3ImageStore(server.settings(prefix)) };
}

/** The names of the objects under `prefix`, relative to it. */
async function objectsUnder(prefix: string): Promise<string[]> {
  const page = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => (o.Key ?? "").slice(prefix.length)).sort();
}

imageStoreContract("S3", async () => {
  const { prefix, store } = newStore();
  return {
    store,
    stored: () => objectsUnder(prefix),
    damage: async (key, change) => {
      const object = { Bucket: server.bucket, Key: prefix + key };
      const got = await server.client.send(new GetObjectCommand(object));
      const changed = change(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())));
      if (changed === null) await server.client.send(new DeleteObjectCommand(object));
      else await server.client.send(new PutObjectCommand({ ...object, Body: changed }));
    },
  };
});

describe("the S3 image store's own objects", () => {
  it("keeps an image's bytes under its key and its sidecar beside it, under the store's prefix", async () => {
    const { prefix, store } = newStore();
    const written = await store.put("backups/4/nightly", diskBytes(2), call());
    assert.deepEqual(await objectsUnder(prefix), ["backups/4/.nightly.json", "backups/4/nightly"]);
    const sidecar = await server.client.send(
      new GetObjectCommand({ Bucket: server.bucket, Key: `${prefix}backups/4/.nightly.json` }),
    );
    assert.deepEqual(
      { ...JSON.parse((await sidecar.Body?.transformToString()) ?? ""), createdAt: undefined },
      { ...written, createdAt: undefined },
    );
    // Another prefix of the same bucket is another store.
    assert.deepEqual(await newStore().store.list(""), []);
  });

  it("bytes whose sidecar was never written are not an image, and sweep removes them once stale", async () => {
    const { prefix, store } = newStore();
    await store.put("backups/6/kept", diskBytes(1), call());
    // An upload whose process died between its bytes and its sidecar.
    await server.client.send(
      new PutObjectCommand({
        Bucket: server.bucket,
        Key: `${prefix}backups/6/orphan`,
        Body: Buffer.alloc(1000, 1),
      }),
    );
    assert.equal(await store.stat("backups/6/orphan"), null);
    assert.deepEqual(
      (await store.list("")).map((i) => i.key),
      ["backups/6/kept"],
    );
    await assert.rejects(store.get("backups/6/orphan", call()), { code: "image_not_found" });

    // A fresh one could be an upload under way on another host: it stays.
    assert.equal(await store.sweep(), 0);
    assert.equal(await store.sweep({ olderThanMs: 0 }), 1);
    assert.deepEqual(await objectsUnder(prefix), ["backups/6/.kept.json", "backups/6/kept"]);
  });

  it("a put whose server is killed mid-stream fails store_unavailable and lists nothing; once the server is back, sweep and the same put succeed", async () => {
    const { prefix, store } = newStore();
    const bytesBeforeKill = 12 * 1024 * 1024; // the first 8 MiB part is on its way, the second being filled
    let sent = 0;
    async function* killedMidway(): AsyncGenerator<Uint8Array> {
      for await (const chunk of diskBytes(320)) {
        yield chunk;
        sent += chunk.length;
        if (sent === bytesBeforeKill) await server.kill();
      }
    }
    const bound = sleep(60_000, "still pending after 60 s", { ref: false });
    const outcome = await Promise.race([
      store.put("backups/8/cut", killedMidway(), call()).then(
        () => "succeeded",
        (err: unknown) => err,
      ),
      bound,
    ]);
    assert.equal((outcome as { code?: string }).code, "store_unavailable", String(outcome));
    assert.ok(sent < 20 * 1024 * 1024, "the put read its whole source");

    await server.start();
    assert.equal(await store.stat("backups/8/cut"), null);
    assert.deepEqual(await store.list(""), []);
    await assert.rejects(store.get("backups/8/cut", call()), { code: "image_not_found" });

    await store.sweep({ olderThanMs: 0 });
    assert.deepEqual(await objectsUnder(prefix), []);
    const written = await store.put("backups/8/cut", diskBytes(320), call());
    assert.deepEqual(written, await sha256Of(diskBytes(320)));
    assert.deepEqual(
      (await store.list("")).map((i) => [i.key, i.sha256]),
      [["backups/8/cut", written.sha256]],
    );
    assert.deepEqual(await sha256Of(await store.get("backups/8/cut", call())), written);
  });

  it("a server that is down makes every call fail store_unavailable; an unknown key id or bucket, store_refused", async () => {
    const { store } = newStore();
    for (const wrong of [
      new S3ImageStore({ ...server.settings("refused/"), accessKeyId: "NOT-A-KEY-ID" }),
      new S3ImageStore({ ...server.settings("refused/"), bucket: "no-such-bucket" }),
    ]) {
      await assert.rejects(wrong.put("backups/1/a", diskBytes(1), call()), { code: "store_refused" });
      await assert.rejects(wrong.stat("backups/1/a"), { code: "store_refused" });
      await assert.rejects(wrong.list(""), { code: "store_refused" });
    }

    await server.kill();
    try {
      await assert.rejects(store.put("backups/1/a", diskBytes(1), call()), { code: "store_unavailable" });
      await assert.rejects(store.stat("backups/1/a"), { code: "store_unavailable" });
      await assert.rejects(store.list(""), { code: "store_unavailable" });
      await assert.rejects(store.get("backups/1/a", call()), { code: "store_unavailable" });
      await assert.rejects(store.delete("backups/1/a"), { code: "store_unavailable" });
    } finally {
      await server.start();
    }
    // Nothing a head request can show either.
    await assert.rejects(
      server.client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: "refused/backups/1/a" })),
      { name: "NotFound" },
    );
  });
});
