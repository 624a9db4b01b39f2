import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";

const scratch = mkdtempSync(join(tmpdir(), "vps-image-store-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let stores = 0;
function newStore(): { root: string; store: DirectoryImageStore } {
  const root = join(scratch, `store-${++stores}`);
  return { root, store: new DirectoryImageStore(root) };
}
const call = () => ({ signal: new AbortController().signal });

/** `count` chunks of 64 KiB of varied bytes, as a disk's export streams them. */
async function* diskBytes(count: number, seed = 1): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const chunk = Buffer.alloc(64 * 1024);
    for (let j = 0; j < chunk.length; j += 32)
      createHash("sha256").update(`${seed}:${i}:${j}`).digest().copy(chunk, j);
    yield chunk;
  }
}

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest("hex") };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream);
}

describe("the directory image store", () => {
  it("stores a multi-MB stream and gives back the same bytes, with their size and sha256", async () => {
    const { store } = newStore();
    const expected = await sha256Of(diskBytes(96)); // 6 MiB
    const written = await store.put("backups/42/daily-1", diskBytes(96), call());
    assert.deepEqual(written, expected);
    assert.equal(written.size, 96 * 64 * 1024);

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
    const { root, store } = newStore();
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
    // The replaced bytes are gone: one data file and one sidecar per image.
    assert.equal(filesUnder(join(root, "backups", "7")).length, 4);
  });

  it("an aborted put leaves no image and no file behind", async () => {
    const { root, store } = newStore();
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
    assert.deepEqual(filesUnder(root), []);
  });

  it("a put cut short by a crash is never listed, and sweep removes what it left once it is stale", async () => {
    const { root, store } = newStore();
    // A separate process streams an upload that never ends, and is killed mid-way.
    const storeUrl = pathToFileURL(
      join(import.meta.dirname, "../../src/store/directory-image-store.ts"),
    ).href;
    const child = spawn(
      process.execPath,
      [
        "--disable-warning=ExperimentalWarning",
        "--input-type=module",
        "-e",
        `import { DirectoryImageStore } from ${JSON.stringify(storeUrl)};
         async function* endless() { for (;;) { yield Buffer.alloc(64 * 1024, 7); await new Promise((r) => setTimeout(r, 20)); } }
         await new DirectoryImageStore(${JSON.stringify(root)}).put("backups/3/crashed", endless(), { signal: new AbortController().signal });`,
      ],
      { stdio: "ignore" },
    );
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const partial = () =>
      filesUnder(root).filter((f) => f.endsWith(".part") && statSync(join(root, f)).size > 0);
    try {
      while (partial().length === 0) {
        assert.equal(child.exitCode, null, "the uploading process ended by itself");
        await sleep(20);
      }
    } finally {
      child.kill("SIGKILL");
      await exited;
    }

    assert.equal(await store.stat("backups/3/crashed"), null);
    assert.deepEqual(await store.list(""), []);
    await assert.rejects(store.get("backups/3/crashed", call()), { code: "image_not_found" });
    const [leftover] = partial();
    assert.ok(leftover);

    // By default a fresh leftover could be an upload under way on another host: it stays.
    assert.equal(await store.sweep(), 0);
    assert.deepEqual(partial(), [leftover]);
    assert.equal(await store.sweep({ olderThanMs: 0 }), 1);
    assert.deepEqual(filesUnder(root), []);

    // The key is usable again.
    const written = await store.put("backups/3/crashed", diskBytes(2), call());
    assert.equal((await store.stat("backups/3/crashed"))?.sha256, written.sha256);
  });

  it("sweep leaves complete images alone", async () => {
    const { root, store } = newStore();
    const written = await store.put("snapshots/5/s1", diskBytes(3), call());
    const before = filesUnder(root);
    assert.equal(await store.sweep({ olderThanMs: 0 }), 0);
    assert.deepEqual(filesUnder(root), before);
    assert.deepEqual(await sha256Of(await store.get("snapshots/5/s1", call())), written);
  });

  it("a flipped byte on disk makes get fail with image_corrupt", async () => {
    const { root, store } = newStore();
    await store.put("backups/9/flip", diskBytes(32), call());
    const [dataFile] = filesUnder(root).filter((f) => f.endsWith(".img"));
    assert.ok(dataFile);
    const path = join(root, dataFile);
    const bytes = readFileSync(path);
    bytes[1_000_000] = (bytes[1_000_000] ?? 0) ^ 0x01;
    writeFileSync(path, bytes);

    // The listing still shows what was recorded; reading it through is what finds the damage.
    assert.equal((await store.stat("backups/9/flip"))?.size, bytes.length);
    await assert.rejects(drain(await store.get("backups/9/flip", call())), { code: "image_corrupt" });
  });

  it("a truncated or missing copy is image_corrupt too", async () => {
    const { root, store } = newStore();
    await store.put("backups/9/short", diskBytes(4), call());
    const [dataFile] = filesUnder(root).filter((f) => f.endsWith(".img"));
    assert.ok(dataFile);
    const path = join(root, dataFile);
    writeFileSync(path, readFileSync(path).subarray(0, 1000));
    await assert.rejects(drain(await store.get("backups/9/short", call())), { code: "image_corrupt" });
    rmSync(path);
    await assert.rejects(store.get("backups/9/short", call()), { code: "image_corrupt" });
  });

  it("refuses keys that are empty, absolute, climb out, or name hidden files", async () => {
    const { root, store } = newStore();
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
    assert.deepEqual(
      readdirSync(scratch).filter((f) => f.includes("escape")),
      [],
    );
    assert.throws(() => readdirSync(root), { code: "ENOENT" });
  });

  it("deleting an image twice, or one never stored, is fine", async () => {
    const { root, store } = newStore();
    await store.put("backups/2/gone", diskBytes(1), call());
    await store.delete("backups/2/gone");
    await store.delete("backups/2/gone");
    await store.delete("backups/2/never");
    assert.equal(await store.stat("backups/2/gone"), null);
    assert.deepEqual(await store.list(""), []);
    await assert.rejects(store.get("backups/2/gone", call()), { code: "image_not_found" });
    assert.deepEqual(filesUnder(root), []);
  });
});
