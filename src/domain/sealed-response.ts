import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes } from "node:crypto";

// A stored idempotent response can carry a secret (a new account's API token), so the database keeps it only
// sealed, with a key derived from the Idempotency-Key, and keeps the Idempotency-Key itself only as a digest:
// the database alone cannot open a response; the client that holds the key can have it replayed.

const FORMAT = "v1.";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What the database keeps in place of an Idempotency-Key. */
export function idempotencyKeyDigest(key: string): string {
  return hash("sha256", `idempotency-key\n${key}`, "hex");
}

/** The AES-256-GCM key of one request's stored response: HKDF over the Idempotency-Key, bound to its request. */
export function responseSealKey(key: string, accountId: number, requestHash: string): Buffer {
  return Buffer.from(hkdfSync("sha256", key, requestHash, `idempotent response of account ${accountId}`, 32));
}

export function sealResponse(body: string, sealKey: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
  const sealed = Buffer.concat([cipher.update(body, "utf8"), cipher.final()]);
  return FORMAT + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url");
}

/** The body sealed by sealResponse, or undefined when `sealKey` is not the one it was sealed with. */
export function openResponse(stored: string, sealKey: Buffer): string | undefined {
  if (!stored.startsWith(FORMAT)) return undefined;
  const raw = Buffer.from(stored.slice(FORMAT.length), "base64url");
  if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealKey, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    return undefined;
  }
}
