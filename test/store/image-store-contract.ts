import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ImageStore, SweepOptions } from "../../src/store/image-store.ts";

/** A store of one kind, empty, with a look behind it. */
export interface StoreUnderTest {
  store: ImageStore & { sweep(options?: SweepOptions): Promise<number> };
  /** The names of everything the store holds (files, or objects), whatever it lists. */
  stored(): Promise<string[]>;
  /** Rewrites the bytes stored for `key` with what `change` makes of them, or removes them (null). */
  damage(key: string, change: (bytes: Buffer) => Buffer | null): Promise<void>;
}

export const call = () => ({ signal: new AbortController().signal });

/** `count` chunks of 64 KiB of varied bytes, as a disk's export streams them. */
export async function* diskBytes(count: number, seed = 1): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const chunk = Buffer.alloc(64 * 1024);
    for (let j = 0; j < chunk.length; j += 32)
      createHash("sha256").update(`${seed}:${i}:${j}`).digest().copy(chunk, j);
    yield chunk;
  }
}

export async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest("hex") };
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream);
}

/** What every kind of image store does, run against one kind. */
export function imageStoreContract(kind: string, newStore: () => Promise<StoreUnderTest>): void {
  describe(`the ${kind} image store`, () => {
    it("stores a 20 MiB stream and gives back the same bytes, with their size and sha256", async () => {
      const { store } = await newStore();
      const expected = await sha256Of(diskBytes(320));
      const written = await store.put("backups/42/daily-1", diskBytes(320), call());
      assert.deepEqual(written, expected);
      assert.equal(written.size, 20 * 1024 * 1024);

      const info = await store.stat("backups/42/daily-1");
      assert.equal(info?.key, "backups/42/daily-1");
      assert.equal(info?.size, expected.size);
      assert.equal(info?.sha256, expected.sha256);
      assert.deepEqual(await sha256Of(await store.get("backups/42/daily-1", call())), expected);
      assert.deepEqual(
        (await store.list("backups/")).map((i) => i.key),
        ["backups/42/daily-1"],
      );
    });

    it("lists by prefix in key order, and a replaced image reads as the new one", async () => {
      const { store, stored } = await newStore();
      for (const key of ["backups/7/b", "backups/7/a", "backups/70/a", "snapshots/7/a"]) {
        await store.put(key, diskBytes(1), call());
      }
      assert.deepEqual(
        (await store.list("backups/7")).map((i) => i.key),
        ["backups/7/a", "backups/7/b", "backups/70/a"],
      );
      assert.deepEqual(
        (await store.list("backups/7/")).map((i) => i.key),
        ["backups/7/a", "backups/7/b"],
      );
      assert.equal((await store.list("")).length, 4);
      assert.deepEqual(await store.list("nothing/"), []);

      const replacement = await store.put("backups/7/a", diskBytes(2, 9), call());
      assert.deepEqual(await sha256Of(await store.get("backups/7/a", call())), replacement);
      assert.equal((await store.stat("backups/7/a"))?.size, replacement.size);
      // The replaced bytes are gone: bytes and a sidecar per image.
      assert.equal((await stored()).length, 8);
    });

    it("an aborted put leaves no image and nothing stored", async () => {
      const { store, stored } = await newStore();
      const abort = new AbortController();
      async function* stalls(): AsyncGenerator<Uint8Array> {
        yield* diskBytes(8);
        abort.abort();
        await sleep(60_000, undefined, { ref: false });
      }
      await assert.rejects(store.put("backups/1/cut", stalls(), { signal: abort.signal }), {
        name: "AbortError",
      });
      assert.equal(await store.stat("backups/1/cut"), null);
      assert.deepEqual(await store.list(""), []);
      await assert.rejects(store.get("backups/1/cut", call()), { code: "image_not_found" });
      assert.deepEqual(await stored(), []);
    });

    it("sweep leaves complete images alone", async () => {
      const { store, stored } = await newStore();
      const written = await store.put("snapshots/5/s1", diskBytes(3), call());
      const before = await stored();
      assert.equal(await store.sweep({ olderThanMs: 0 }), 0);
      assert.deepEqual(await stored(), before);
      assert.deepEqual(await sha256Of(await store.get("snapshots/5/s1", call())), written);
    });

    it("a flipped byte in the stored copy makes get fail with image_corrupt", async () => {
      const { store, damage } = await newStore();
      await store.put("backups/9/flip", diskBytes(32), call());
      await damage("backups/9/flip", (bytes) => {
        bytes[1_000_000] = (bytes[1_000_000] ?? 0) ^ 0x01;
        return bytes;
      });
      // The listing still shows what was recorded; reading it through is what finds the damage.
      assert.equal((await store.stat("backups/9/flip"))?.size, 32 * 64 * 1024);
      await assert.rejects(drain(await store.get("backups/9/flip", call())), { code: "image_corrupt" });
    });

    it("a truncated or missing copy is image_corrupt too", async () => {
      const { store, damage } = await newStore();
      await store.put("backups/9/short", diskBytes(4), call());
      await damage("backups/9/short", (bytes) => bytes.subarray(0, 1000));
      await assert.rejects(drain(await store.get("backups/9/short", call())), { code: "image_corrupt" });
      await damage("backups/9/short", () => null);
      await assert.rejects(store.get("backups/9/short", call()), { code: "image_corrupt" });
    });

    it("refuses keys that are empty, absolute, climb out, or name hidden files", async () => {
      const { store, stored } = await newStore();
      const bad = [
        "",
        "/etc/passwd",
        "../escape",
        "backups/../../escape",
        "a//b",
        "a/",
        ".hidden",
        "a/.b",
        "a\\b",
        "-x",
      ];
      for (const key of bad) {
        await assert.rejects(store.put(key, diskBytes(1), call()), { code: "invalid_image_key" }, key);
        await assert.rejects(store.get(key, call()), { code: "invalid_image_key" }, key);
        await assert.rejects(store.stat(key), { code: "invalid_image_key" }, key);
        await assert.rejects(store.delete(key), { code: "invalid_image_key" }, key);
      }
      for (const prefix of ["/", "../", "a/../", "a/."]) {
        await assert.rejects(store.list(prefix), { code: "invalid_image_key" }, prefix);
      }
      assert.deepEqual(await stored(), []);
    });

    it("deleting an image twice, or one never stored, is fine", async () => {
      const { store, stored } = await newStore();
      await store.put("backups/2/gone", diskBytes(1), call());
      await store.delete("backups/2/gone");
      await store.delete("backups/2/gone");
      await store.delete("backups/2/never");
      assert.equal(await store.stat("backups/2/gone"), null);
      assert.deepEqual(await store.list(""), []);
      await assert.rejects(store.get("backups/2/gone", call()), { code: "image_not_found" });
      assert.deepEqual(await stored(), []);
    });
  });
}
