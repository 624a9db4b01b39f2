import type { Repositories } from "../db/repositories/repositories.ts";
import { generateToken, hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { InvitationInvalid, NotFound } from "../domain/errors.ts";
import { hashPassword } from "../domain/password-hash.ts";
import { checkPassword } from "./account-service.ts";

/**
 * Invitation links: an operator makes one for an account, and whoever opens it sets the account's password,
 * once. The token is random, kept only as its SHA-256, single-use, and expires.
 */
export class InvitationService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  constructor(repos: Repositories, clock: Clock, ttlMs: number) {
    this.#repos = repos;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  async create(accountId: number): Promise<{ token: string; expiresAt: string }> {
    if (!(await this.#repos.accounts.findById(accountId))) throw new NotFound("Account");
    const token = generateToken();
    const expiresAt = isoAt(this.#clock, this.#ttlMs);
    await this.#repos.invitations.insert(hashToken(token), accountId, isoAt(this.#clock), expiresAt);
    return { token, expiresAt };
  }

  /** The email of the account an open invitation is for; 404 `invitation_invalid` otherwise. */
  async check(token: string): Promise<string> {
    const accountId = await this.#repos.invitations.findOpen(hashToken(token), isoAt(this.#clock));
    const account = accountId === undefined ? undefined : await this.#repos.accounts.findById(accountId);
    if (!account) throw new InvitationInvalid();
    return account.email;
  }

  /** Sets the password and uses the invitation up, in one transaction; returns the account's id. */
  async accept(token: string, password: string): Promise<number> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    const now = isoAt(this.#clock);
    return this.#repos.transaction(async (tx) => {
      const accountId = await tx.invitations.use(hashToken(token), now);
      if (accountId === undefined) throw new InvitationInvalid();
      await tx.accounts.setPasswordHash(accountId, passwordHash, now);
      return accountId;
    });
  }
}
