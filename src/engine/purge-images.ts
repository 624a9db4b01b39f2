import type { Logger } from "pino";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { ImageStore } from "../store/image-store.ts";

/**
 * Removes deleted images' bytes from the store, then records each as purged: a key whose delete fails stays
 * unpurged for the next sweep. How many were purged.
 */
export async function purgeImages(
  repos: Repositories,
  store: ImageStore,
  keys: readonly string[],
  now: string,
  log: Logger,
): Promise<number> {
  let purged = 0;
  for (const key of keys) {
    try {
      await store.delete(key);
      await repos.images.markPurged(key, now);
      purged++;
    } catch (err) {
      log.warn({ err, key }, "image bytes not removed from the store; the sweep tries again");
    }
  }
  return purged;
}
