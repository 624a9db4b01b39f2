/**
 * Where images live, a part of the Config that config.ts builds: declared here, so that store code depends on no
 * module above it.
 */
export type ImageStoreSettings =
  | {
      kind: "directory";
      /** The store's root, relative to the working directory unless absolute. */
      root: string;
    }
  | ({ kind: "s3" } & S3StoreSettings);

export interface S3StoreSettings {
  bucket: string;
  /** Put before every object's name: empty, or ending in `/`. */
  prefix: string;
  /** The server's URL, e.g. http://127.0.0.1:9000; unset, AWS's own endpoint for the region. */
  endpoint: string | undefined;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}
