import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

// Passwords are stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (salt and key in base64url), so that the cost
// can be raised later without invalidating stored hashes: each hash is checked with the parameters it names.
// N = 2^15, r = 8, p = 1 needs 128 · N · r = 32 MiB of memory and about 50 ms of one core per hash (OWASP's
// minimum for scrypt is N = 2^17 with r = 8 at 128 MiB; 2^15 keeps a sign-in cheap enough for a small host).

const LOG2_N = 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** The most memory one stored hash may make us use: a tampered row cannot ask for more. */
const MAX_MEMORY = 256 * 1024 * 1024;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

function derive(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keyLength, { ...options, maxmem: MAX_MEMORY }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N: 2 ** LOG2_N, r: BLOCK_SIZE, p: PARALLELISM });
  return [
    "scrypt",
    LOG2_N,
    BLOCK_SIZE,
    PARALLELISM,
    salt.toString("base64url"),
    key.toString("base64url"),
  ].join("$");
}

/** Whether `password` is the one `stored` was made from; the keys are compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !log2N || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  try {
    const actual = await derive(password, Buffer.from(salt, "base64url"), expected.length, {
      N: 2 ** Number(log2N),
      r: Number(r),
      p: Number(p),
    });
    return expected.length > 0 && timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/** Hashes `password` against nothing, so that an unknown email takes as long to refuse as a wrong password. */
export async function spendPasswordTime(password: string): Promise<void> {
  await hashPassword(password);
}
