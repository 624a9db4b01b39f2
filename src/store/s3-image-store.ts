import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { checkImageKeyPrefix, imageKeySegments } from "./image-key.ts";
import {
  type ImageInfo,
  type ImageStore,
  type ImageStoreCall,
  ImageStoreError,
  imageCorrupt,
  imageNotFound,
  type SweepOptions,
} from "./image-store.ts";
import type { S3StoreSettings } from "./image-store-settings.ts";
import { verifiedImageStream } from "./verified-image-stream.ts";

// The S3 kind: a bucket of any S3-compatible server (AWS, MinIO, Ceph, Garage). Under the settings' prefix:
//   <key>                    the image's bytes, uploaded in parts of 8 MiB (one PutObject when smaller)
//   <dir>/.<name>.json       the sidecar {size, sha256, createdAt}: the image exists once it is written
// The sidecar is written only after the bytes' upload completed and HeadObject showed their full size, so an upload
// cut short is never listed. A key's segments never start with '.', so no key's bytes can take a sidecar's name.

const PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once: memory held is about (QUEUE_SIZE + 1) × PART_SIZE per put. */
const QUEUE_SIZE = 2;
const SIDECAR = /^\.(.+)\.json$/;
/** Errors of the connection itself: the server is unreachable or went away. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
]);

interface Sidecar {
  size: number;
  sha256: string;
  createdAt: string;
}

export class S3ImageStore implements ImageStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(settings: S3StoreSettings) {
    this.#bucket = settings.bucket;
    this.#prefix = settings.prefix;
    this.#client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      // Path-style URLs (http://server/bucket/key) work on every S3-compatible server, without DNS per bucket.
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // The SDK's default CRC32 checksums in trailers are not understood by every S3-compatible server; the
      // image's own sha256 is what is checked.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      // A server that stops answering fails the call (and the SDK's retries) instead of hanging it.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
  }

  async put(
    key: string,
    bytes: AsyncIterable<Uint8Array>,
    call: ImageStoreCall,
  ): Promise<{ size: number; sha256: string }> {
    const object = this.#object(key);
    call.signal.throwIfAborted();
    const hash = createHash("sha256");
    let size = 0;
    const source = Readable.from(
      (async function* () {
        for await (const chunk of bytes) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key: object, Body: source },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // Aborted below, so that a failed abort cannot hide why the upload failed.
      leavePartsOnError: true,
    });
    const onAbort = (): void => void upload.abort();
    call.signal.addEventListener("abort", onAbort, { once: true });
    try {
      await upload.done();
    } catch (err) {
      source.destroy();
      // Best effort: parts a failed abort leaves, sweep() aborts later.
      if (upload.uploadId) await this.#abortUpload(object, upload.uploadId);
      throw call.signal.aborted ? call.signal.reason : storeError(err);
    } finally {
      call.signal.removeEventListener("abort", onAbort);
    }
    const sha256 = hash.digest("hex");
    const head = await this.#send(call, (options) =>
      this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: object }), options),
    );
    if (head.ContentLength !== size) {
      throw new ImageStoreError(
        "store_unavailable",
        `the store holds ${head.ContentLength} bytes of image ${key} after an upload of ${size}`,
      );
    }
    const sidecar: Sidecar = { size, sha256, createdAt: new Date().toISOString() };
    await this.#send(call, (options) =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#sidecar(key),
          Body: JSON.stringify(sidecar),
          ContentType: "application/json",
        }),
        options,
      ),
    );
    return { size, sha256 };
  }

  async get(key: string, call: ImageStoreCall): Promise<Readable> {
    const recorded = await this.#readSidecar(key, call);
    if (!recorded) throw imageNotFound(key);
    let body: Readable;
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#object(key) }),
        {
          abortSignal: call.signal,
        },
      );
      body = answer.Body as Readable;
    } catch (err) {
      if (!isMissing(err)) throw call.signal.aborted ? call.signal.reason : storeError(err);
      // Deleted meanwhile, or the bytes are gone from under a recorded image.
      if ((await this.#readSidecar(key, call))?.createdAt !== recorded.createdAt) throw imageNotFound(key);
      throw imageCorrupt(key, "its bytes are missing");
    }
    return verifiedImageStream(key, body, recorded, (err) => (call.signal.aborted ? err : storeError(err)));
  }

  async stat(key: string): Promise<ImageInfo | null> {
    const sidecar = await this.#readSidecar(key, noCall());
    return sidecar && info(key, sidecar);
  }

  async delete(key: string): Promise<void> {
    const call = noCall();
    if (!(await this.#readSidecar(key, call))) return;
    // The sidecar first: from then on the image is gone, whatever happens to its bytes.
    await this.#send(call, (options) =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#sidecar(key) }), options),
    );
    await this.#send(call, (options) =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#object(key) }), options),
    );
  }

  async list(prefix: string): Promise<ImageInfo[]> {
    checkImageKeyPrefix(prefix);
    // Sidecars sit beside their keys' last names: list from the deepest "directory" the prefix names whole.
    const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const call = noCall();
    const found: ImageInfo[] = [];
    for await (const object of this.#objects(base, call)) {
      const key = sidecarKey(object.name);
      if (key === undefined || !key.startsWith(prefix)) continue;
      const sidecar = await this.#readSidecar(key, call);
      if (sidecar) found.push(info(key, sidecar));
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Removes what failed uploads left: bytes no sidecar names and unfinished multipart uploads, once older than an
   * hour (so uploads under way on other hosts are left alone). Returns how many.
   */
  async sweep(options: SweepOptions = {}): Promise<number> {
    const before = Date.now() - (options.olderThanMs ?? 60 * 60_000);
    const call = noCall();
    const objects: { name: string; modified: number }[] = [];
    const sidecars = new Set<string>();
    for await (const object of this.#objects("", call)) {
      if (sidecarKey(object.name) !== undefined) sidecars.add(object.name);
      else objects.push(object);
    }
    let removed = 0;
    for (const { name, modified } of objects) {
      if (modified > before || sidecars.has(this.#sidecar(name))) continue;
      // A put that completed since the listing has written its sidecar by now.
      if (await this.#readSidecar(name, call)) continue;
      await this.#send(call, (options) =>
        this.#client.send(
          new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#object(name) }),
          options,
        ),
      );
      removed++;
    }
    for (const upload of await this.#staleUploads(before, call)) {
      await this.#send(call, (options) =>
        this.#client.send(
          new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: upload.key, UploadId: upload.id }),
          options,
        ),
      );
      removed++;
    }
    return removed;
  }

  /** The object names (keys, or a sidecar's `<dir>/.<name>.json`) under `base`, relative to the store's prefix. */
  async *#objects(base: string, call: ImageStoreCall): AsyncGenerator<{ name: string; modified: number }> {
    let token: string | undefined;
    do {
      const page = await this.#send(call, (options) =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + base,
            ContinuationToken: token,
          }),
          options,
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { name: object.Key.slice(this.#prefix.length), modified: object.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Multipart uploads under the prefix started before `before`; none where the server cannot list them. */
  async #staleUploads(before: number, call: ImageStoreCall): Promise<{ key: string; id: string }[]> {
    const stale: { key: string; id: string }[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      let page: ListMultipartUploadsCommandOutput;
      try {
        page = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#bucket,
            Prefix: this.#prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: idMarker,
          }),
          { abortSignal: call.signal },
        );
      } catch (err) {
        // Some S3-compatible servers (s3rver) do not implement the listing; their leftover parts stay theirs.
        if (statusOf(err) === 501) return stale;
        throw storeError(err);
      }
      for (const upload of page.Uploads ?? []) {
        if (upload.Key && upload.UploadId && (upload.Initiated?.getTime() ?? 0) <= before) {
          stale.push({ key: upload.Key, id: upload.UploadId });
        }
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return stale;
  }

  async #abortUpload(object: string, uploadId: string): Promise<void> {
    await this.#client
      .send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: object, UploadId: uploadId }))
      .catch(() => {});
  }

  async #readSidecar(key: string, call: ImageStoreCall): Promise<Sidecar | null> {
    try {
      const answer = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#sidecar(key) }),
        { abortSignal: call.signal },
      );
      return JSON.parse((await answer.Body?.transformToString("utf8")) ?? "") as Sidecar;
    } catch (err) {
      if (isMissing(err)) return null;
      throw call.signal.aborted ? call.signal.reason : storeError(err);
    }
  }

  /** Sends the command `send` makes, failing with the store's own errors. */
  async #send<Output>(
    call: ImageStoreCall,
    send: (options: { abortSignal: AbortSignal }) => Promise<Output>,
  ): Promise<Output> {
    try {
      return await send({ abortSignal: call.signal });
    } catch (err) {
      throw call.signal.aborted ? call.signal.reason : storeError(err);
    }
  }

  #object(key: string): string {
    imageKeySegments(key);
    return this.#prefix + key;
  }

  #sidecar(key: string): string {
    const segments = imageKeySegments(key);
    const name = segments.pop() as string;
    return `${this.#prefix}${segments.map((s) => `${s}/`).join("")}.${name}.json`;
  }
}

/** The key whose sidecar is at `name`, or undefined when `name` is not a sidecar. */
function sidecarKey(name: string): string | undefined {
  const slash = name.lastIndexOf("/");
  const key = SIDECAR.exec(name.slice(slash + 1))?.[1];
  return key === undefined ? undefined : name.slice(0, slash + 1) + key;
}

function info(key: string, sidecar: Sidecar): ImageInfo {
  return { key, size: sidecar.size, sha256: sidecar.sha256, createdAt: new Date(sidecar.createdAt) };
}

/** Calls that cannot be aborted: stat, list, delete and sweep are short or resumable. */
function noCall(): ImageStoreCall {
  return { signal: new AbortController().signal };
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const name = (err as Error).name;
  return name === "NoSuchKey" || name === "NotFound";
}

/**
 * The store's error for a failed S3 call, after the SDK's own retries: `store_unavailable` when the server could
 * not be reached or failed (a later retry may work), `store_refused` when it answered no. Anything else (the
 * caller's source failing) is passed through.
 */
function storeError(err: unknown): unknown {
  if (err instanceof ImageStoreError || (err as Error).name === "AbortError") return err;
  const status = statusOf(err);
  const name = (err as Error).name ?? "Error";
  const detail = `${name}: ${(err as Error).message}`;
  const code = (err as NodeJS.ErrnoException).code;
  if (
    status === undefined
      ? NETWORK_CODES.has(code ?? "") || name === "TimeoutError" || name === "RequestTimeout"
      : status >= 500 || status === 429 || status === 408
  ) {
    return new ImageStoreError("store_unavailable", `the image store is unavailable (${detail})`);
  }
  if (status !== undefined) {
    return new ImageStoreError("store_refused", `the image store refused the request (${status} ${detail})`);
  }
  return err;
}
