import type { Readable } from "node:stream";
import type { ImageInfo, ImageStore, ImageStoreCall, SweepOptions } from "../../src/store/image-store.ts";

/** A real image store that tests wrap to make it fail: every call goes to `inner` unless a subclass overrides it. */
export class ImageStoreWrapper implements ImageStore {
  protected readonly inner: ImageStore;
  constructor(inner: ImageStore) {
    this.inner = inner;
  }

  put(key: string, bytes: AsyncIterable<Uint8Array>, call: ImageStoreCall) {
    return this.inner.put(key, bytes, call);
  }

  get(key: string, call: ImageStoreCall): Promise<Readable> {
    return this.inner.get(key, call);
  }

  stat(key: string): Promise<ImageInfo | null> {
    return this.inner.stat(key);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  list(prefix: string): Promise<ImageInfo[]> {
    return this.inner.list(prefix);
  }

  sweep(options?: SweepOptions): Promise<number> {
    return this.inner.sweep(options);
  }
}
