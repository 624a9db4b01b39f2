import type { TokenListing } from "../../db/repositories/token-repository.ts";
import { apiTimestamp } from "./present-server.ts";

export function presentApiToken(token: TokenListing) {
  return {
    id: token.id,
    name: token.name,
    created_at: apiTimestamp(token.created_at),
    revoked_at: token.revoked_at === null ? null : apiTimestamp(token.revoked_at),
  };
}
