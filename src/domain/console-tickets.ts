import { randomBytes } from "node:crypto";

// A console ticket is what a customer's WebSocket presents (a browser cannot set headers on one), a console
// grant what the control plane presents to a host agent for the same console. Both are random, single-use,
// short-lived and stored only as SHA-256 digests (hashToken in api-token.ts); their prefixes tell them apart.

/** Spent at the WebSocket's upgrade: a client asks for it just before it connects. */
export const CONSOLE_TICKET_TTL_SECONDS = 30;

/** Spent by the agent at once: the control plane connects as soon as it is issued. */
export const CONSOLE_GRANT_TTL_SECONDS = 15;

export function generateConsoleTicket(): string {
  return `vpsc_${randomBytes(30).toString("base64url")}`;
}

export function generateConsoleGrant(): string {
  return `vpsg_${randomBytes(30).toString("base64url")}`;
}

/** The shape every ticket and grant has: anything else is refused before the database is asked. */
export const CONSOLE_SECRET = /^vps[cg]_[A-Za-z0-9_-]{40}$/;
