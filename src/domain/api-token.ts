import { hash, randomBytes, timingSafeEqual } from "node:crypto";

// API tokens are random and long, so a fast hash is enough to store them: the database holds only
// SHA-256 digests, and a stolen copy of it yields no usable token.

export function generateToken(): string {
  return `vps_${randomBytes(30).toString("base64url")}`;
}

export function hashToken(token: string): string {
  // One-shot: every authenticated request hashes its token, and a Hash object per call costs more.
  return hash("sha256", token, "hex");
}

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when the header is missing or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+([\x21-\x7e]{1,512})[ \t]*$/i.exec(header);
  return match?.[1];
}
