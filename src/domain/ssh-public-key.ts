/**
 * Parsing and validation of user-supplied SSH public keys (one authorized_keys
 * line). Pure: no file or network I/O.
 *
 * We validate far more than the outer shape because these keys end up in
 * servers' authorized_keys files: a key that sshd would silently ignore (or that
 * is weak) should be refused at the API boundary with a reason a human can act
 * on, not discovered later as a failed login.
 */
import { createHash, createPublicKey, type JsonWebKey } from "node:crypto";

export type SshKeyType =
  | "ssh-ed25519"
  | "ecdsa-sha2-nistp256"
  | "ecdsa-sha2-nistp384"
  | "ecdsa-sha2-nistp521"
  | "ssh-rsa";

export interface SshPublicKey {
  type: SshKeyType;
  /** 256 for ed25519, 256/384/521 for ECDSA, modulus bit length for RSA. */
  bits: number;
  /** OpenSSH style "SHA256:<unpadded base64>", identical to `ssh-keygen -lf`. */
  fingerprint: string;
  /** Trailing comment, trimmed, or null when there is none. */
  comment: string | null;
  /** "<type> <base64>" without the comment: the canonical form to store/compare. */
  normalized: string;
}

export type SshKeyParseResult = { ok: true; key: SshPublicKey } | { ok: false; reason: string };

/** Generous for a 16384-bit RSA key plus a comment, small enough to bound work. */
const MAX_INPUT_BYTES = 16 * 1024;

const MIN_RSA_BITS = 2048;
/** OpenSSH refuses larger moduli (SSH_RSA_MAXIMUM_MODULUS_SIZE), so would sshd. */
const MAX_RSA_BITS = 16384;

const ED25519_KEY_BYTES = 32;

const SUPPORTED_KEY_TYPES: readonly SshKeyType[] = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
];

type EcdsaKeyType = Extract<SshKeyType, `ecdsa-${string}`>;

interface EcdsaCurve {
  /** Curve name repeated inside the key blob (RFC 5656). */
  identifier: string;
  /** Name of the same curve in JWK terms, for the on-curve check. */
  jwkCurve: string;
  /** Size of one affine coordinate; the point is 0x04 || x || y. */
  coordinateBytes: number;
  bits: number;
}

const ECDSA_CURVES: Readonly<Record<EcdsaKeyType, EcdsaCurve>> = {
  "ecdsa-sha2-nistp256": { identifier: "nistp256", jwkCurve: "P-256", coordinateBytes: 32, bits: 256 },
  "ecdsa-sha2-nistp384": { identifier: "nistp384", jwkCurve: "P-384", coordinateBytes: 48, bits: 384 },
  "ecdsa-sha2-nistp521": { identifier: "nistp521", jwkCurve: "P-521", coordinateBytes: 66, bits: 521 },
};

/**
 * Internal signal for "this input is not acceptable". Parsing steps throw it so
 * they can stay linear; parseSshPublicKey turns it into `{ ok: false }`.
 */
class KeyRejection extends Error {}

function reject(reason: string): never {
  throw new KeyRejection(reason);
}

export function parseSshPublicKey(text: string): SshKeyParseResult {
  try {
    return { ok: true, key: parseOrReject(text) };
  } catch (error) {
    if (error instanceof KeyRejection) return { ok: false, reason: error.message };
    throw error; // a bug, not bad input
  }
}

function parseOrReject(text: string): SshPublicKey {
  const line = checkedLine(text);
  const { type, data, comment } = splitFields(line);
  const blob = decodeStrictBase64(data);
  const reader = new WireReader(blob);

  const innerType = reader.readString().toString("latin1");
  if (innerType !== type) {
    reject(`Key type ${quote(type)} does not match the type inside the key data (${quote(innerType)}).`);
  }
  const bits = parseKeyBody(type, reader);
  // Trailing bytes would make two different blobs (and fingerprints) for one key.
  if (!reader.atEnd()) reject("Key data has unexpected trailing bytes.");

  return { type, bits, fingerprint: fingerprintOf(blob), comment, normalized: `${type} ${data}` };
}

// ---------------------------------------------------------------------------
// Line level: size, single line, fields
// ---------------------------------------------------------------------------

function checkedLine(text: string): string {
  if (typeof text !== "string") reject("SSH public key must be a string.");
  // Check the cheap character count first so huge inputs are not re-encoded.
  if (text.length > MAX_INPUT_BYTES || Buffer.byteLength(text, "utf8") > MAX_INPUT_BYTES) {
    reject("SSH public key is too long (the limit is 16 KiB).");
  }
  const line = text.trim();
  if (line === "") reject("SSH public key is empty.");
  // Several keys in one field would be stored as one, and an embedded newline
  // could inject extra lines into authorized_keys.
  if (line.includes("\n") || line.includes("\r")) reject("SSH public key must be a single line.");
  if (hasControlCharacter(line)) reject("SSH public key contains control characters.");
  return line;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // Tab is a legitimate field separator in authorized_keys.
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

interface KeyFields {
  type: SshKeyType;
  data: string;
  comment: string | null;
}

/** authorized_keys fields are separated by spaces or tabs; the comment may contain either. */
const FIELDS_PATTERN = /^([^ \t]+)(?:[ \t]+([^ \t]+))?(?:[ \t]+(.*))?$/;

function splitFields(line: string): KeyFields {
  const match = FIELDS_PATTERN.exec(line);
  const first = match?.[1] ?? "";
  const data = match?.[2];
  const comment = match?.[3]?.trim() || null;

  if (!isSupportedKeyType(first)) {
    // Options such as `restrict,command="..."` are ours to decide per server,
    // not something a user may smuggle in with their key.
    if (line.split(/[ \t]+/).some(isSupportedKeyType)) {
      reject('Options before the key type are not allowed; provide only "type key [comment]".');
    }
    reject(`Unsupported key type ${quote(first)}; use ed25519, ECDSA or RSA (2048 bits or more).`);
  }
  if (data === undefined) reject("Key data is missing after the key type.");
  return { type: first, data, comment };
}

function isSupportedKeyType(value: string): value is SshKeyType {
  return (SUPPORTED_KEY_TYPES as readonly string[]).includes(value);
}

/**
 * Node's base64 decoder silently skips invalid characters and ignores bad
 * padding, so validate the alphabet and shape first and then require an exact
 * round trip (which also rejects non-zero bits in the final character). That
 * makes `normalized` a faithful, canonical encoding of the blob.
 */
function decodeStrictBase64(data: string): Buffer {
  const wellFormed = data.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(data);
  const decoded = wellFormed ? Buffer.from(data, "base64") : undefined;
  if (decoded === undefined || decoded.toString("base64") !== data) reject("Key data is not valid base64.");
  return decoded;
}

// ---------------------------------------------------------------------------
// Wire level: the SSH binary encoding (RFC 4251 section 5)
// ---------------------------------------------------------------------------

/** Sequential reader of uint32-length-prefixed strings; rejects on truncation. */
class WireReader {
  readonly #bytes: Buffer;
  #offset = 0;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  readString(): Buffer {
    if (this.#remaining() < 4) reject("Key data is truncated.");
    const length = this.#bytes.readUInt32BE(this.#offset);
    this.#offset += 4;
    if (length > this.#remaining()) reject("Key data is truncated.");
    const value = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  /**
   * Reads a non-negative mpint and returns its magnitude without the sign
   * byte. Only the minimal encoding is accepted, so one key has one blob.
   */
  readPositiveMpint(name: string): Buffer {
    const bytes = this.readString();
    if (bytes.length === 0) return bytes; // zero
    const first = bytes.readUInt8(0);
    if ((first & 0x80) !== 0) reject(`RSA ${name} is negative.`);
    if (first === 0x00) {
      // A leading zero is only allowed to keep the next byte's high bit from reading as a sign.
      if (bytes.length === 1 || (bytes.readUInt8(1) & 0x80) === 0)
        reject(`RSA ${name} is not minimally encoded.`);
      return bytes.subarray(1);
    }
    return bytes;
  }

  atEnd(): boolean {
    return this.#remaining() === 0;
  }

  #remaining(): number {
    return this.#bytes.length - this.#offset;
  }
}

// ---------------------------------------------------------------------------
// Key level: per-algorithm checks. Each returns the key size in bits.
// ---------------------------------------------------------------------------

function parseKeyBody(type: SshKeyType, reader: WireReader): number {
  switch (type) {
    case "ssh-ed25519":
      return parseEd25519(reader);
    case "ssh-rsa":
      return parseRsa(reader);
    default:
      return parseEcdsa(ECDSA_CURVES[type], type, reader);
  }
}

function parseEd25519(reader: WireReader): number {
  const key = reader.readString();
  if (key.length !== ED25519_KEY_BYTES) reject("Ed25519 public key must be exactly 32 bytes.");
  // OpenSSL only checks the shape of a raw Ed25519 key here (like sshd does);
  // going through the same gate as the other algorithms keeps them uniform.
  requireAcceptedByCrypto(
    { kty: "OKP", crv: "Ed25519", x: key.toString("base64url") },
    "Ed25519 public key is not valid.",
  );
  return 256;
}

function parseEcdsa(curve: EcdsaCurve, type: SshKeyType, reader: WireReader): number {
  const identifier = reader.readString().toString("latin1");
  if (identifier !== curve.identifier) {
    reject(`ECDSA curve ${quote(identifier)} does not match key type ${quote(type)}.`);
  }
  const point = reader.readString();
  if (point.length === 0 || point.readUInt8(0) !== 0x04)
    reject("ECDSA public key point must be uncompressed.");
  if (point.length !== 1 + 2 * curve.coordinateBytes) {
    reject(`ECDSA public key point has the wrong length for ${curve.identifier}.`);
  }
  // An off-curve point enables invalid-curve attacks and would never verify a
  // signature anyway; OpenSSL rejects such points (and out-of-range coordinates).
  const x = point.subarray(1, 1 + curve.coordinateBytes);
  const y = point.subarray(1 + curve.coordinateBytes);
  requireAcceptedByCrypto(
    { kty: "EC", crv: curve.jwkCurve, x: x.toString("base64url"), y: y.toString("base64url") },
    "ECDSA public key point is not on the curve.",
  );
  return curve.bits;
}

function parseRsa(reader: WireReader): number {
  // Wire order for ssh-rsa is e then n (RFC 4253 section 6.6).
  const exponent = reader.readPositiveMpint("public exponent");
  const modulus = reader.readPositiveMpint("modulus");

  const bits = bitLength(modulus);
  if (bits < MIN_RSA_BITS) reject(`RSA keys must be at least ${MIN_RSA_BITS} bits.`);
  if (bits > MAX_RSA_BITS) reject(`RSA keys must be at most ${MAX_RSA_BITS} bits.`);
  // An even or tiny exponent is never produced by a real key generator.
  if (!isOddAndAtLeastThree(exponent)) reject("RSA public exponent must be odd and at least 3.");

  requireAcceptedByCrypto(
    { kty: "RSA", n: modulus.toString("base64url"), e: exponent.toString("base64url") },
    "RSA public key is not valid.",
  );
  return bits;
}

/** Bit length of a big-endian magnitude without leading zero bytes. */
function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0) return 0;
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude.readUInt8(0)));
}

function isOddAndAtLeastThree(magnitude: Buffer): boolean {
  if (magnitude.length === 0) return false;
  const isOdd = (magnitude.readUInt8(magnitude.length - 1) & 1) === 1;
  // Odd and more than one byte, or a single odd byte other than 1.
  return isOdd && (magnitude.length > 1 || magnitude.readUInt8(0) >= 3);
}

/** Lets OpenSSL (via Node) have the final word on whether the key material is usable. */
function requireAcceptedByCrypto(jwk: JsonWebKey, reason: string): void {
  try {
    createPublicKey({ key: jwk, format: "jwk" });
  } catch {
    reject(reason);
  }
}

// ---------------------------------------------------------------------------
// Presentation helpers
// ---------------------------------------------------------------------------

/** Same format as `ssh-keygen -lf`: SHA-256 over the wire blob, unpadded base64. */
function fingerprintOf(blob: Buffer): string {
  const digest = createHash("sha256").update(blob).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** Quotes untrusted text for a reason message, escaped and kept short. */
function quote(value: string): string {
  const limit = 40;
  return JSON.stringify(value.length > limit ? `${value.slice(0, limit)}…` : value);
}
