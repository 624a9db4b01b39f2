import type { FastifyRequest } from "fastify";
import type { Services } from "../services/services.ts";
import type { PageFrame } from "./layout.ts";
import { session } from "./web-request.ts";

/**
 * The frame of a signed-in page (its account's email in the header, and the operator's pages in the navigation for
 * an operator), with the session's account id.
 */
export async function signedInFrame(
  services: Services,
  request: FastifyRequest,
): Promise<PageFrame & { accountId: number }> {
  const { accountId } = session(request);
  const account = await services.accounts.get(accountId);
  const shown = { email: account.email, operator: account.operator_since !== null };
  return { title: "", csrf: request.web.csrf, account: shown, accountId };
}
