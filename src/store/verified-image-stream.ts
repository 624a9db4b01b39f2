import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { imageCorrupt } from "./image-store.ts";

/**
 * `source` passed through, erroring at its end with `image_corrupt` when its bytes are not the `recorded` ones;
 * `mapError` turns a failed read into the store's own error.
 */
export function verifiedImageStream(
  key: string,
  source: AsyncIterable<Uint8Array>,
  recorded: { size: number; sha256: string },
  mapError: (err: unknown) => unknown = (err) => err,
): Readable {
  async function* verified(): AsyncGenerator<Uint8Array> {
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    } catch (err) {
      throw mapError(err);
    }
    const sha256 = hash.digest("hex");
    if (size !== recorded.size || sha256 !== recorded.sha256) {
      throw imageCorrupt(
        key,
        `read ${size} bytes with sha256 ${sha256}, recorded ${recorded.size} and ${recorded.sha256}`,
      );
    }
  }
  return Readable.from(verified(), { objectMode: false });
}
