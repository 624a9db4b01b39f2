import { ImageStoreError } from "./image-store.ts";

// Keys are slash-separated names, e.g. `backups/42/2025-01-31T02-00-00Z`. Each segment starts with a letter, digit
// or underscore, so `..`, `.`, absolute paths and hidden names (which the stores keep for their own files) are refused.

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;
const MAX_KEY = 1024;

/** The key's segments; throws `invalid_image_key` for anything else. */
export function imageKeySegments(key: string): string[] {
  const segments = key.split("/");
  if (key.length > MAX_KEY || !segments.every((s) => SEGMENT.test(s))) {
    throw new ImageStoreError(
      "invalid_image_key",
      `image key ${JSON.stringify(key.slice(0, 100))} is not slash-separated names of letters, digits, '.', '_' and '-' (none starting with '.' or '-')`,
    );
  }
  return segments;
}

/** A `list` prefix: the start of some valid key (empty, or ending in `/` or part of a name). */
export function checkImageKeyPrefix(prefix: string): void {
  imageKeySegments(`${prefix}x`);
}
