import { randomBytes } from "node:crypto";

// A host's join token and credential are random like API tokens and stored, like them, only as SHA-256
// digests (hashToken in api-token.ts). Their prefixes tell an operator which secret is which.

/** Single-use, short-lived: given to the operator at registration, spent by the agent's join. */
export function generateJoinToken(): string {
  return `vpsj_${randomBytes(30).toString("base64url")}`;
}

/** The agent's long-lived credential, issued at join and kept by the host (mode 0600). */
export function generateHostCredential(): string {
  return `vpsh_${randomBytes(30).toString("base64url")}`;
}

/** One copy of one migrating disk: issued to the target with its claim, spent by the source when it serves the disk. */
export function generateTransferToken(): string {
  return `vpst_${randomBytes(30).toString("base64url")}`;
}

/** Join tokens live an hour unless the operator asks otherwise (Incus's cluster.join_token_expiry is alike). */
export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;
export const MAX_JOIN_TOKEN_TTL_SECONDS = 7 * 24 * 3600;
