import { type Driver, type DriverCall, DriverError, type MachineSpec } from "../drivers/driver.ts";
import { type ImageStore, ImageStoreError } from "../store/image-store.ts";
import type { ClaimedOperation, ImageRef, Outcome } from "./host-link.ts";

// The driver steps of the kinds that use the image store: a snapshot or backup copies the disk into it; a create
// or rebuild from an image restores a disk out of it. Each is idempotent: a copy writes its own key whole or not
// at all, and a restore replaces whatever an earlier attempt defined.

/** Captures the machine's disk and writes it to the image's key; the host's copy is released whatever happens. */
export async function copyDiskToStore(
  driver: Driver,
  store: ImageStore,
  op: ClaimedOperation,
  call: DriverCall,
): Promise<Outcome> {
  const image = requireImage(op);
  // The block job is the first half of the progress, the upload the second.
  const half = (from: number) => (fraction: number) => call.progress?.(from + fraction / 2);
  const capture = await driver.captureDisk(String(op.serverId), { ...call, progress: half(0) });
  try {
    const bytes = counted(capture.read(), capture.size, { ...call, progress: half(0.5) });
    const written = await storeStep(() => store.put(image.key, bytes, { signal: call.signal }));
    if (written.size !== capture.size || written.sha256 !== capture.sha256) {
      throw new DriverError(
        "checksum_mismatch",
        `the store recorded ${written.size} bytes with sha256 ${written.sha256}, the capture ${capture.size} with ${capture.sha256}`,
      );
    }
    return { image: { size: written.size, sha256: written.sha256, consistency: capture.consistency } };
  } finally {
    await capture.release();
  }
}

/** Defines the machine, stopped, with the image's disk (checked against the size and sha256 it was made with). */
export async function restoreDiskFromStore(
  driver: Driver,
  store: ImageStore,
  op: ClaimedOperation,
  spec: MachineSpec,
  call: DriverCall,
): Promise<void> {
  const image = requireImage(op);
  if (image.size === null || image.sha256 === null) {
    throw new DriverError("image_not_available", `image ${image.id} is not complete`, true);
  }
  const bytes = await storeStep(() => store.get(image.key, { signal: call.signal }));
  await storeStep(() =>
    driver.importDisk(
      spec,
      { size: image.size ?? 0, sha256: image.sha256 ?? "", chunks: counted(bytes, image.size ?? 0, call) },
      call,
    ),
  );
}

function requireImage(op: ClaimedOperation): ImageRef {
  if (!op.image) throw new DriverError("image_missing", `the ${op.kind} came without its image`, true);
  return op.image;
}

/** The bytes as they pass, reported as the restore's progress. */
async function* counted(
  bytes: AsyncIterable<Uint8Array>,
  size: number,
  call: DriverCall,
): AsyncIterable<Uint8Array> {
  let read = 0;
  for await (const chunk of bytes) {
    read += chunk.length;
    if (size > 0) call.progress?.(Math.min(1, read / size));
    yield chunk;
  }
}

/**
 * A store step, its errors as driver errors: an unreachable store is retried; an image that is gone or whose
 * bytes no longer match its checksum never will be.
 */
async function storeStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof ImageStoreError)) throw err;
    throw new DriverError(err.code, err.message, err.code !== "store_unavailable");
  }
}
