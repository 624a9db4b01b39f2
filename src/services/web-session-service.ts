import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { WebSettings } from "../config.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { WebSessionRow } from "../db/schema.ts";
import { hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { InvalidInput, NotFound, SignInFailed } from "../domain/errors.ts";
import { hashPassword, spendPasswordTime, verifyPassword } from "../domain/password-hash.ts";
import { checkPassword } from "./account-service.ts";
import { AuthFailureLimit, type AuthFailureLimits } from "./auth-failure-limit.ts";

/** A session's last-seen time is written at most this often, not at every page. */
const TOUCH_EVERY_MS = 60_000;
const MAX_USER_AGENT = 200;

/** What failed sign-ins of an email are counted under. */
function signInKey(email: string): string {
  return `sign-in:${email.trim().toLowerCase().slice(0, 256)}`;
}

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
    const accountKey = signInKey(email);
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
    const now = isoAt(this.#clock);
    await this.#repos.webSessions.deleteDead(now, this.#idleSince());
    return this.#insert(this.#repos, accountId, userAgent, now);
  }

  async #insert(repos: Repositories, accountId: number, userAgent: string, now: string): Promise<string> {
    const id = newSessionId();
    await repos.webSessions.insert({
      id_hash: hashToken(id),
      account_id: accountId,
      created_at: now,
      last_seen_at: now,
      expires_at: isoAt(this.#clock, this.#settings.sessionMaxMs),
      user_agent: userAgent.slice(0, MAX_USER_AGENT),
    });
    return id;
  }

  /**
   * Sets a new password once the current one is given, ends every session of the account (a browser that took
   * the old password signs out) and returns a new one for this browser, in one transaction. A wrong current
   * password counts as a failed sign-in of the account's email and of the address, so a session left open
   * somewhere cannot be used to guess the password.
   */
  async changePassword(
    session: WebSession,
    current: string,
    next: string,
    address: string,
    userAgent: string,
  ): Promise<string> {
    const account = await this.#repos.accounts.findById(session.accountId);
    if (!account) throw new NotFound("Account");
    const accountKey = signInKey(account.email);
    const refused = this.#byAddress.refusal(address) ?? this.#byAccount.refusal(accountKey);
    if (refused) throw refused;
    if (!account.password_hash || !(await verifyPassword(current, account.password_hash))) {
      const byAddress = await this.#byAddress.fail(address);
      const byAccount = await this.#byAccount.fail(accountKey);
      throw (
        byAddress ??
        byAccount ??
        InvalidInput.field("current_password", "This is not the account's password.")
      );
    }
    checkPassword(next);
    const passwordHash = await hashPassword(next);
    const now = isoAt(this.#clock);
    return this.#repos.transaction(async (tx) => {
      await tx.accounts.setPasswordHash(account.id, passwordHash, now);
      await tx.webSessions.deleteForAccount(account.id);
      return this.#insert(tx, account.id, userAgent, now);
    });
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
