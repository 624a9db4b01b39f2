import type { FastifyRequest } from "fastify";
import type { AccountRow } from "../db/schema.ts";
import type { Services } from "../services/services.ts";
import { balanceWarning } from "./balance-banner.ts";
import type { PageFrame } from "./layout.ts";
import { session } from "./web-request.ts";

/**
 * The frame of a signed-in page (its account's email in the header, the operator's pages in the navigation for an
 * operator, and the banner of a balance below its threshold), with the session's account id.
 */
export async function signedInFrame(
  services: Services,
  request: FastifyRequest,
): Promise<PageFrame & { accountId: number }> {
  const { accountId } = session(request);
  const account = await services.accounts.get(accountId);
  return { title: "", csrf: request.web.csrf, account: headerAccount(services, account), accountId };
}

/** The signed-in account as the frame shows it: its email, its role, and its balance's warning if any. */
export function headerAccount(services: Services, account: AccountRow): NonNullable<PageFrame["account"]> {
  return {
    email: account.email,
    operator: account.operator_since !== null,
    balance: balanceWarning(account, services.config.lowBalanceThresholdMinor),
  };
}
