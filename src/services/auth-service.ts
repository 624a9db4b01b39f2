import type { Repositories } from "../db/repositories/repositories.ts";
import { bearerToken, hashToken, sameDigest } from "../domain/api-token.ts";
import { Unauthorized } from "../domain/errors.ts";

export const ADMIN_TOKEN_SETTING = "admin_token_sha256";

/** Who a request's bearer token belongs to. */
export class AuthService {
  readonly #repos: Repositories;
  constructor(repos: Repositories) {
    this.#repos = repos;
  }

  /** The account id of the token in the header; 401 for a missing, malformed, unknown or revoked token. */
  async authenticate(header: string | undefined): Promise<{ accountId: number; tokenId: number }> {
    const token = bearerToken(header);
    if (!token)
      throw new Unauthorized(header ? "Malformed Authorization header; use: Bearer <token>." : undefined);
    const digest = hashToken(token);
    const owner = await this.#repos.tokens.findActiveByHash(digest);
    if (!owner || !sameDigest(owner.tokenHash, digest)) throw new Unauthorized("Invalid API token.");
    return { accountId: owner.accountId, tokenId: owner.tokenId };
  }

  async authenticateAdmin(header: string | undefined): Promise<void> {
    const token = bearerToken(header);
    const stored = await this.#repos.settings.get(ADMIN_TOKEN_SETTING);
    if (!token || !stored || !sameDigest(stored, hashToken(token))) {
      throw new Unauthorized("Invalid or missing admin token.");
    }
  }
}
