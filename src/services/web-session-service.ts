import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { WebSettings } from "../config.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { WebSessionRow } from "../db/schema.ts";
import { hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { SignInFailed } from "../domain/errors.ts";
import { spendPasswordTime, verifyPassword } from "../domain/password-hash.ts";
import { AuthFailureLimit, type AuthFailureLimits } from "./auth-failure-limit.ts";

/** A session's last-seen time is written at most this often, not at every page. */
const TOUCH_EVERY_MS = 60_000;
const MAX_USER_AGENT = 200;

/** The signed-in browser of a request. */
export interface WebSession {
  accountId: number;
  idHash: string;
}

/** A random value for the session cookie: a session's id, or a visitor's before signing in (kept nowhere). */
export function newSessionId(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The CSRF token of a cookie's value: derived from it, so a page of ours can embed it while another site, which
 * cannot read our cookie, cannot make it; and nothing is stored. Visitors not signed in have a cookie too, so the
 * sign-in and sign-up forms are checked the same way.
 */
export function csrfToken(cookieValue: string): string {
  return createHmac("sha256", cookieValue).update("vps csrf").digest("base64url");
}

export function csrfMatches(cookieValue: string, given: string): boolean {
  const expected = Buffer.from(csrfToken(cookieValue));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Browser sessions of the web console, kept in the database by the SHA-256 of their id. A sign-in always makes
 * a new id (no fixation); a session ends when idle for VPS_SESSION_IDLE_MS or VPS_SESSION_MAX_MS after it began.
 * Failed sign-ins count against the client address (with the API's failed tokens) and against the email.
 */
export class WebSessionService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #settings: WebSettings;
  readonly #byAddress: AuthFailureLimit;
  readonly #byAccount: AuthFailureLimit;
  constructor(repos: Repositories, clock: Clock, settings: WebSettings, limits: AuthFailureLimits) {
    this.#repos = repos;
    this.#clock = clock;
    this.#settings = settings;
    this.#byAddress = new AuthFailureLimit(repos, clock, limits);
    this.#byAccount = new AuthFailureLimit(repos, clock, { ...limits, failures: settings.signInFailures });
  }

  /** A new session for the account whose email and password these are; 401 otherwise, 429 once throttled. */
  async signIn(email: string, password: string, address: string, userAgent: string): Promise<string> {
    // Counted under the email as typed (any case), whether or not an account has it: no hint either way.
    const accountKey = `sign-in:${email.trim().toLowerCase().slice(0, 256)}`;
    const refused = this.#byAddress.refusal(address) ?? this.#byAccount.refusal(accountKey);
    if (refused) throw refused;
    const account = await this.#repos.accounts.findByEmail(email.trim());
    const stored = account?.password_hash;
    let right = false;
    if (stored) right = await verifyPassword(password, stored);
    else await spendPasswordTime(password);
    if (!account || !right) {
      const byAddress = await this.#byAddress.fail(address);
      const byAccount = await this.#byAccount.fail(accountKey);
      throw byAddress ?? byAccount ?? new SignInFailed();
    }
    return this.start(account.id, userAgent);
  }

  /** A new session for an account that has just proven who it is (signed in, set its password, signed up). */
  async start(accountId: number, userAgent: string): Promise<string> {
    const id = newSessionId();
    const now = isoAt(this.#clock);
    await this.#repos.webSessions.deleteDead(now, this.#idleSince());
    await this.#repos.webSessions.insert({
      id_hash: hashToken(id),
      account_id: accountId,
      created_at: now,
      last_seen_at: now,
      expires_at: isoAt(this.#clock, this.#settings.sessionMaxMs),
      user_agent: userAgent.slice(0, MAX_USER_AGENT),
    });
    return id;
  }

  /** The live session of a cookie's value, if it is one. */
  async resume(id: string): Promise<WebSession | undefined> {
    const idHash = hashToken(id);
    const row = await this.#repos.webSessions.findLive(idHash, isoAt(this.#clock), this.#idleSince());
    if (!row) return undefined;
    if (Date.parse(row.last_seen_at) <= this.#clock.now().getTime() - TOUCH_EVERY_MS) {
      await this.#repos.webSessions.touch(idHash, isoAt(this.#clock));
    }
    return { accountId: row.account_id, idHash };
  }

  async list(accountId: number): Promise<WebSessionRow[]> {
    return this.#repos.webSessions.listLive(accountId, isoAt(this.#clock), this.#idleSince());
  }

  async signOut(session: WebSession): Promise<void> {
    await this.#repos.webSessions.delete(session.idHash);
  }

  /** Ends every session of the account, in every browser. */
  async signOutEverywhere(accountId: number): Promise<void> {
    await this.#repos.webSessions.deleteForAccount(accountId);
  }

  #idleSince(): string {
    return isoAt(this.#clock, -this.#settings.sessionIdleMs);
  }
}
