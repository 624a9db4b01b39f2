import { createHmac, hkdfSync, randomBytes } from "node:crypto";

// Webhooks are signed as the Standard Webhooks specification says (standardwebhooks.com), so receivers can use its
// libraries: `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, keyed
// with the bytes of the base64 after the secret's `whsec_` prefix.

const SECRET_PREFIX = "whsec_";

/** A new endpoint's signing secret: 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** The `webhook-signature` header of one message. */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    "base64",
  );
  return `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/**
 * The AES-256-GCM key an endpoint's secret is sealed with (sealResponse in sealed-response.ts): HKDF over the
 * operator's master key, bound to the endpoint, so a sealed secret copied to another endpoint's row opens nothing.
 */
export function webhookSealKey(masterKey: string, endpointId: number): Buffer {
  return Buffer.from(
    hkdfSync("sha256", masterKey, `webhook-endpoint:${endpointId}`, "webhook signing secret", 32),
  );
}
