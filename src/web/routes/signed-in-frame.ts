import type { FastifyRequest } from "fastify";
import type { Services } from "../../services/services.ts";
import type { PageFrame } from "../layout.ts";
import { session } from "../web-request.ts";

/** The frame of a signed-in page (its account's email in the header), and the account it is for. */
export async function signedInFrame(
  services: Services,
  request: FastifyRequest,
): Promise<PageFrame & { accountId: number }> {
  const { accountId } = session(request);
  const account = await services.accounts.get(accountId);
  return { title: "", csrf: request.web.csrf, account: { email: account.email }, accountId };
}
