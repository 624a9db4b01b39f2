import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import { type ImageStoreCall, ImageStoreError } from "../../src/store/image-store.ts";
import { ImageStoreWrapper } from "./image-store-wrapper.ts";

/**
 * A real directory store whose next `failPuts` uploads fail as an unreachable store does (`store_unavailable`),
 * before any byte is written: set it to make the store go away for that many uploads.
 */
export class FailingImageStore extends ImageStoreWrapper {
  failPuts = 0;

  constructor(root: string) {
    super(new DirectoryImageStore(root));
  }

  override async put(key: string, bytes: AsyncIterable<Uint8Array>, call: ImageStoreCall) {
    if (this.failPuts > 0) {
      this.failPuts--;
      throw new ImageStoreError("store_unavailable", "the image store cannot be reached");
    }
    return this.inner.put(key, bytes, call);
  }
}
