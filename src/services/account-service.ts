import { randomUUID } from "node:crypto";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { TokenListing } from "../db/repositories/token-repository.ts";
import type { AccountRow } from "../db/schema.ts";
import { generateToken, hashToken } from "../domain/api-token.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { AmountOutOfRange, Conflict, InvalidInput, NotFound } from "../domain/errors.ts";
import { MONEY_LIMIT_MINOR, parseMoney, parseSignedMoney, withinMoneyLimit } from "../domain/money.ts";
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../domain/password-hash.ts";
import type { TokenVerdicts } from "./token-verdicts.ts";

export const CURRENCY = "USD";

/** The field that names the low-balance threshold in the API and the console's form. */
export const FIELD_LOW_BALANCE = "low_balance_threshold";

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** A password long enough to resist guessing and short enough to hash cheaply; 400 otherwise. */
export function checkPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    throw InvalidInput.field(
      "password",
      `Must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long.`,
    );
  }
}

export class AccountService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  readonly #verdicts: TokenVerdicts;
  constructor(repos: Repositories, clock: Clock, verdicts: TokenVerdicts) {
    this.#repos = repos;
    this.#clock = clock;
    this.#verdicts = verdicts;
  }

  async get(id: number): Promise<AccountRow> {
    const account = await this.#repos.accounts.findById(id);
    if (!account) throw new NotFound("Account");
    return account;
  }

  /**
   * The account, when it is an operator of the web console; a 404 otherwise, as for a page that does not exist,
   * so that a customer learns nothing of the operators' pages.
   */
  async operator(id: number): Promise<AccountRow> {
    const account = await this.#repos.accounts.findById(id);
    if (!account?.operator_since) throw new NotFound("Page");
    return account;
  }

  /**
   * Makes the account an operator (keeping when it first became one) or a customer again. Checked at every page
   * request, so a revoke takes effect at the operator's next click, in every browser.
   */
  async setOperator(id: number, operator: boolean): Promise<AccountRow> {
    const account = await this.get(id);
    const now = isoAt(this.#clock);
    const updated = await this.#repos.accounts.setOperatorSince(
      id,
      operator ? (account.operator_since ?? now) : null,
      now,
    );
    if (!updated) throw new NotFound("Account");
    return updated;
  }

  async list(limit: number, offset: number): Promise<{ count: number; accounts: AccountRow[] }> {
    const [count, accounts] = await Promise.all([
      this.#repos.accounts.count(),
      this.#repos.accounts.list(limit, offset),
    ]);
    return { count, accounts };
  }

  /** Creates an account with its first API token; the token is returned once and stored only as a digest. */
  async create(
    email: string,
    credit: string,
    token = generateToken(),
  ): Promise<{ account: AccountRow; token: string }> {
    const account = await this.#insert(email, credit, async (tx, account, now) => {
      await tx.tokens.insert(account.id, hashToken(token), "default", now);
    });
    return { account, token };
  }

  /** Self sign-up (VPS_SIGNUP=open): an account with a password and `credit`, and no API token yet. */
  async signUp(email: string, password: string, credit: string): Promise<AccountRow> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    return this.#insert(email, credit, (tx, account, now) =>
      tx.accounts.setPasswordHash(account.id, passwordHash, now),
    );
  }

  async #insert(
    email: string,
    credit: string,
    andThen: (tx: Repositories, account: AccountRow, now: string) => Promise<void>,
  ): Promise<AccountRow> {
    if (!EMAIL.test(email)) throw InvalidInput.field("email", "Must be an email address.");
    const creditMinor = parseMoney(credit);
    if (creditMinor === null)
      throw InvalidInput.field("credit", 'Must be a non-negative amount such as "25.00".');
    if (!withinMoneyLimit(creditMinor)) throw new AmountOutOfRange(["credit"]);
    const now = isoAt(this.#clock);
    return this.#repos.transaction(async (tx) => {
      // Emails differing only in case are one address; the database's index also settles concurrent creates.
      const exists = () => new Conflict("account_exists", "An account with this email already exists.");
      if (await tx.accounts.findByEmail(email)) throw exists();
      const created = await tx.accounts.create(email, 0, CURRENCY, now);
      if (!created) throw exists();
      let account = created;
      if (creditMinor > 0) {
        const { account: credited } = await tx.ledger.append({
          account_id: created.id,
          kind: "topup",
          amount_minor: creditMinor,
          currency: CURRENCY,
          key: `topup:${created.id}:initial`,
          description: "Credit of the new account",
          created_at: now,
        });
        if (credited) account = credited;
      }
      await andThen(tx, account, now);
      return account;
    });
  }

  /**
   * Adds credit (or deducts it, with a negative amount) as long as the balance stays within the money limit, as a
   * ledger entry naming `by` (who made it): a `topup` (positive), or a `correction` (either sign), which needs a
   * reason; a negative amount is a correction. An account back above zero gets its suspended servers back as
   * `stopped`, ready to start, and billed again from now.
   */
  async addCredit(
    id: number,
    amount: string,
    by: string,
    options: { kind?: "topup" | "correction"; reason?: string } = {},
  ): Promise<AccountRow> {
    const delta = parseSignedMoney(amount);
    if (delta === null || delta === 0) {
      throw InvalidInput.field("amount", 'Must be a non-zero amount such as "10.00" (negative to deduct).');
    }
    if (!withinMoneyLimit(delta)) throw new AmountOutOfRange(["amount"]);
    const kind = options.kind ?? (delta < 0 ? "correction" : "topup");
    if (kind === "topup" && delta < 0) {
      throw InvalidInput.field(
        "amount",
        'A top-up adds credit; a deduction is a "correction" with a reason.',
      );
    }
    const reason = options.reason?.trim() ?? "";
    if (kind === "correction" && reason.length === 0) {
      throw InvalidInput.field("reason", "A correction needs a reason (1-500 characters).");
    }
    if (reason.length > 500) throw InvalidInput.field("reason", "At most 500 characters.");
    const now = isoAt(this.#clock);
    return this.#repos.transaction(async (tx) => {
      const current = await tx.accounts.findById(id);
      if (!current) throw new NotFound("Account");
      const { account } = await tx.ledger.append(
        {
          account_id: id,
          kind,
          amount_minor: delta,
          currency: current.currency,
          key: `${kind}:${id}:${randomUUID()}`,
          description: kind === "topup" ? "Credit added" : "Correction",
          created_by: by,
          reason: reason.length > 0 ? reason : null,
          created_at: now,
        },
        MONEY_LIMIT_MINOR,
      );
      // Out of bounds: the error rolls the entry back with the transaction.
      if (!account) throw new AmountOutOfRange(["amount"], "The balance");
      if (account.balance_minor > 0) await tx.servers.unsuspend(id, now);
      return account;
    });
  }

  /**
   * Changes what the account may change of itself: its own low-balance threshold (an amount of at least 0.00, such
   * as "10.00"), or with null the operator's default again; absent, left as it is. The next charge reads it: a
   * balance already below it is not told again until a charge crosses it.
   */
  async update(id: number, changes: { low_balance_threshold?: string | null }): Promise<AccountRow> {
    const threshold = changes.low_balance_threshold;
    if (threshold === undefined) return this.get(id);
    let minor: number | null = null;
    if (threshold !== null) {
      minor = parseMoney(threshold.trim());
      if (minor === null) {
        throw InvalidInput.field(
          FIELD_LOW_BALANCE,
          'Must be an amount of at least 0 with at most two decimals, such as "10.00".',
        );
      }
      if (!withinMoneyLimit(minor)) throw new AmountOutOfRange([FIELD_LOW_BALANCE]);
    }
    const updated = await this.#repos.accounts.setLowBalanceThreshold(id, minor, isoAt(this.#clock));
    if (!updated) throw new NotFound("Account");
    return updated;
  }

  /** The account's API tokens, revoked ones too, newest first; a token itself is never shown again. */
  async listTokens(accountId: number): Promise<TokenListing[]> {
    await this.get(accountId);
    return this.#repos.tokens.listForAccount(accountId);
  }

  async getToken(accountId: number, tokenId: number): Promise<TokenListing> {
    const token = await this.#repos.tokens.find(accountId, tokenId);
    if (!token) throw new NotFound("Token");
    return token;
  }

  /** A new named token: returned this once, stored only as its SHA-256. */
  async issueToken(accountId: number, name: string): Promise<TokenListing & { token: string }> {
    const cleanName = name.trim();
    if (cleanName.length === 0 || cleanName.length > 100) {
      throw InvalidInput.field("name", "Must be 1-100 characters.");
    }
    await this.get(accountId);
    const token = generateToken();
    const now = isoAt(this.#clock);
    const id = await this.#repos.tokens.insert(accountId, hashToken(token), cleanName, now);
    return { id, name: cleanName, created_at: now, revoked_at: null, token };
  }

  /** Revokes a live token of the account: from the next request on it authenticates nothing. */
  async revokeToken(accountId: number, tokenId: number): Promise<void> {
    if (!(await this.#repos.tokens.revoke(accountId, tokenId, isoAt(this.#clock))))
      throw new NotFound("Token");
    // Other processes hear of it through the revoke's notification, or forget it with their verdicts' expiry.
    this.#verdicts.forget(tokenId);
  }
}
