import type { Readable } from "node:stream";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import {
  type ImageInfo,
  type ImageStore,
  type ImageStoreCall,
  ImageStoreError,
  type SweepOptions,
} from "../../src/store/image-store.ts";

/**
 * A real directory store whose next `failPuts` uploads fail as an unreachable store does (`store_unavailable`),
 * before any byte is written: set it to make the store go away for that many uploads.
 */
export class FailingImageStore implements ImageStore {
  failPuts = 0;
  readonly #store: DirectoryImageStore;

  constructor(root: string) {
    this.#store = new DirectoryImageStore(root);
  }

  async put(key: string, bytes: AsyncIterable<Uint8Array>, call: ImageStoreCall) {
    if (this.failPuts > 0) {
      this.failPuts--;
      throw new ImageStoreError("store_unavailable", "the image store cannot be reached");
    }
    return this.#store.put(key, bytes, call);
  }

  get(key: string, call: ImageStoreCall): Promise<Readable> {
    return this.#store.get(key, call);
  }

  stat(key: string): Promise<ImageInfo | null> {
    return this.#store.stat(key);
  }

  delete(key: string): Promise<void> {
    return this.#store.delete(key);
  }

  list(prefix: string): Promise<ImageInfo[]> {
    return this.#store.list(prefix);
  }

  sweep(options?: SweepOptions): Promise<number> {
    return this.#store.sweep(options);
  }
}
