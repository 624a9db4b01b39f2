import { DirectoryImageStore } from "./directory-image-store.ts";
import type { ImageStore } from "./image-store.ts";
import type { ImageStoreSettings } from "./image-store-settings.ts";
import { S3ImageStore } from "./s3-image-store.ts";

/** The store `VPS_IMAGE_STORE` names: a directory, or a bucket of an S3-compatible server. */
export function createImageStore(settings: ImageStoreSettings): ImageStore {
  return settings.kind === "s3" ? new S3ImageStore(settings) : new DirectoryImageStore(settings.root);
}
