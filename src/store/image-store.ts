import type { Readable } from "node:stream";

// Where backups and snapshots live. An image is written whole or not at all: `stat`, `list` and `get` never show
// one whose upload has not finished, and every read is checked against the checksum recorded when it was written.

/** What the store recorded of a complete image. */
export interface ImageInfo {
  key: string;
  size: number;
  /** sha256 of the bytes, hex. */
  sha256: string;
  createdAt: Date;
}

export interface ImageStoreCall {
  signal: AbortSignal;
}

export interface ImageStore {
  /** Streams the bytes in (never holding a whole disk) and records their size and checksum; replaces an image under the same key only once complete. */
  put(
    key: string,
    bytes: AsyncIterable<Uint8Array>,
    call: ImageStoreCall,
  ): Promise<{ size: number; sha256: string }>;
  /** The image's bytes; the stream errors at its end (`image_corrupt`) when they are not what was recorded. */
  get(key: string, call: ImageStoreCall): Promise<Readable>;
  /** The complete image under `key`, or null. */
  stat(key: string): Promise<ImageInfo | null>;
  /** Removes the image; a missing one is fine. */
  delete(key: string): Promise<void>;
  /** The complete images whose keys start with `prefix`, in key order. */
  list(prefix: string): Promise<ImageInfo[]>;
  /** Removes what uploads cut short left (never a complete image); how many leftovers it removed. */
  sweep(options?: SweepOptions): Promise<number>;
}

export interface SweepOptions {
  /** Only leftovers untouched for this long are removed, so uploads under way (on any host) are left alone. */
  olderThanMs?: number;
}

/**
 * A refused or failed store step, with a stable code: `invalid_image_key`, `image_not_found`, `image_corrupt`, and
 * for a remote store `store_unavailable` (unreachable, or a server error after retries: worth retrying later) or
 * `store_refused` (the store answered no: credentials, bucket or permissions; a retry does not help).
 */
export class ImageStoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function imageNotFound(key: string): ImageStoreError {
  return new ImageStoreError("image_not_found", `no image ${key}`);
}

export function imageCorrupt(key: string, detail: string): ImageStoreError {
  return new ImageStoreError("image_corrupt", `image ${key} is corrupt: ${detail}`);
}
