import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { checkImageKeyPrefix, imageKeySegments } from "./image-key.ts";
import {
  type ImageInfo,
  type ImageStore,
  type ImageStoreCall,
  imageCorrupt,
  imageNotFound,
  type SweepOptions,
} from "./image-store.ts";
import { verifiedImageStream } from "./verified-image-stream.ts";

// The directory kind: one host's disk, or a mount every host shares. Beside a key's name, in its directory:
//   .<name>.<id>.part       the bytes of an upload under way (or of one a crash cut short)
//   .<name>.<id>.img        the bytes of one complete upload
//   .<name>.json            the sidecar {size, sha256, data, createdAt}: the image exists once it is in place
// The sidecar is written last and renamed over the old one, so an image is either the old one or the new one,
// never a half-written one; each upload's bytes have their own name, so a replaced image stays readable until then.

interface Sidecar {
  size: number;
  sha256: string;
  /** The file name of the image's bytes, in the sidecar's directory. */
  data: string;
  createdAt: string;
}

const SIDECAR = /^\.(.+)\.json$/;
const DATA = /^\.(.+)\.[0-9a-f]{16}\.img$/;

export class DirectoryImageStore implements ImageStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async put(
    key: string,
    bytes: AsyncIterable<Uint8Array>,
    call: ImageStoreCall,
  ): Promise<{ size: number; sha256: string }> {
    const { dir, name } = this.#place(key);
    await mkdir(dir, { recursive: true });
    const id = randomBytes(8).toString("hex");
    const part = join(dir, `.${name}.${id}.part`);
    const data = `.${name}.${id}.img`;
    const hash = createHash("sha256");
    let size = 0;
    let committed = false;
    try {
      // pipeline, not a bare write stream: a failed write or an abort fails the put, not the process.
      const copied = pipeline(
        bytes,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(part, { flags: "wx", flush: true }),
        { signal: call.signal },
      );
      await settledOrAborted(copied, call.signal);
      await rename(part, join(dir, data));
      const sha256 = hash.digest("hex");
      const previous = await this.#readSidecar(dir, name);
      const sidecar: Sidecar = { size, sha256, data, createdAt: new Date().toISOString() };
      const sidecarPart = join(dir, `.${name}.${id}.json.part`);
      await writeFile(sidecarPart, JSON.stringify(sidecar), { flag: "wx", flush: true });
      await rename(sidecarPart, join(dir, `.${name}.json`));
      committed = true;
      await syncDirectory(dir);
      if (previous && previous.data !== data) await rm(join(dir, previous.data), { force: true });
      return { size, sha256 };
    } catch (err) {
      // Best effort: what a crash leaves instead, sweep() removes.
      if (!committed) {
        for (const file of [part, join(dir, data), join(dir, `.${name}.${id}.json.part`)]) {
          await rm(file, { force: true }).catch(() => {});
        }
      }
      throw err;
    }
  }

  async get(key: string, call: ImageStoreCall): Promise<Readable> {
    const { dir, name } = this.#place(key);
    const sidecar = await this.#readSidecar(dir, name);
    if (!sidecar) throw imageNotFound(key);
    const recorded: Sidecar = sidecar;
    let file: Awaited<ReturnType<typeof open>>;
    try {
      file = await open(join(dir, recorded.data), "r");
    } catch (err) {
      if (!isMissing(err)) throw err;
      // Deleted meanwhile, or the bytes are gone from under a recorded image.
      if ((await this.#readSidecar(dir, name))?.data !== recorded.data) throw imageNotFound(key);
      throw imageCorrupt(key, "its bytes are missing");
    }
    return verifiedImageStream(key, file.createReadStream({ signal: call.signal }), recorded);
  }

  async stat(key: string): Promise<ImageInfo | null> {
    const { dir, name } = this.#place(key);
    const sidecar = await this.#readSidecar(dir, name);
    return sidecar && info(key, sidecar);
  }

  async delete(key: string): Promise<void> {
    const { dir, name } = this.#place(key);
    const sidecar = await this.#readSidecar(dir, name);
    if (!sidecar) return;
    // The sidecar first: from then on the image is gone, whatever happens to its bytes.
    await rm(join(dir, `.${name}.json`), { force: true });
    await rm(join(dir, sidecar.data), { force: true });
  }

  async list(prefix: string): Promise<ImageInfo[]> {
    checkImageKeyPrefix(prefix);
    // Walk from the deepest directory the prefix names whole.
    const slash = prefix.lastIndexOf("/");
    const base = slash < 0 ? "" : prefix.slice(0, slash + 1);
    const found: ImageInfo[] = [];
    await this.#walk(base, async (dir, keyDir, entry) => {
      const name = SIDECAR.exec(entry)?.[1];
      if (name === undefined || !`${keyDir}${name}`.startsWith(prefix)) return;
      const sidecar = await this.#readSidecar(dir, name);
      if (sidecar) found.push(info(`${keyDir}${name}`, sidecar));
    });
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Removes what crashed uploads and deletes left: unfinished bytes, and bytes no sidecar names. Returns how many files. */
  async sweep(options: SweepOptions = {}): Promise<number> {
    const before = Date.now() - (options.olderThanMs ?? 60 * 60_000);
    let removed = 0;
    await this.#walk("", async (dir, _keyDir, entry) => {
      const orphan =
        entry.endsWith(".part") ||
        (DATA.test(entry) && (await this.#readSidecar(dir, DATA.exec(entry)?.[1] ?? ""))?.data !== entry);
      if (!orphan) return;
      const path = join(dir, entry);
      const stats = await stat(path).catch(() => null);
      if (!stats || stats.mtimeMs > before) return;
      await rm(path, { force: true });
      removed++;
    });
    return removed;
  }

  #place(key: string): { dir: string; name: string } {
    const segments = imageKeySegments(key);
    const name = segments.pop() as string;
    return { dir: join(this.#root, ...segments), name };
  }

  async #readSidecar(dir: string, name: string): Promise<Sidecar | null> {
    try {
      return JSON.parse(await readFile(join(dir, `.${name}.json`), "utf8")) as Sidecar;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** Calls `visit` for every file under the key directory `keyDir` ("" or ending in "/"), depth first. */
  async #walk(
    keyDir: string,
    visit: (dir: string, keyDir: string, entry: string) => Promise<void>,
  ): Promise<void> {
    const dir = join(this.#root, ...keyDir.split("/").filter(Boolean));
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) await this.#walk(`${keyDir}${entry.name}/`, visit);
      else if (entry.isFile()) await visit(dir, keyDir, entry.name);
    }
  }
}

/**
 * Waits for `work`, or rejects as soon as `signal` aborts: a source stalled inside its own await (a hung peer) is not
 * interrupted by the pipeline's abort, which has already closed the file it wrote to.
 */
async function settledOrAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  work.catch(() => {});
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    signal.throwIfAborted();
    await Promise.race([work, aborted]);
    signal.throwIfAborted();
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function info(key: string, sidecar: Sidecar): ImageInfo {
  return { key, size: sidecar.size, sha256: sidecar.sha256, createdAt: new Date(sidecar.createdAt) };
}

/** Makes the renames in `dir` durable, so a power cut cannot undo a completed put. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}
