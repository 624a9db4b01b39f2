import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import { call, diskBytes, imageStoreContract } from "./image-store-contract.ts";

const scratch = mkdtempSync(join(tmpdir(), "vps-image-store-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let stores = 0;
function newStore(): { root: string; store: DirectoryImageStore } {
  const root = join(scratch, `store-${++stores}`);
  return { root, store: new DirectoryImageStore(root) };
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

imageStoreContract("directory", async () => {
  const { root, store } = newStore();
  return {
    store,
    stored: async () => filesUnder(root),
    damage: async (key, change) => {
      // The sidecar `.<name>.json` names the file of the image's bytes.
      const sidecar = join(root, dirname(key), `.${key.split("/").pop()}.json`);
      const path = join(dirname(sidecar), JSON.parse(readFileSync(sidecar, "utf8")).data);
      const changed = change(readFileSync(path));
      if (changed === null) rmSync(path);
      else writeFileSync(path, changed);
    },
  };
});

describe("the directory image store's own files", () => {
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

  it("refused keys write nothing outside the store", async () => {
    const { root, store } = newStore();
    for (const key of ["../escape", "backups/../../escape", "/etc/passwd"]) {
      await assert.rejects(store.put(key, diskBytes(1), call()), { code: "invalid_image_key" });
    }
    assert.deepEqual(
      readdirSync(scratch).filter((f) => f.includes("escape")),
      [],
    );
    assert.throws(() => readdirSync(root), { code: "ENOENT" });
  });
});
