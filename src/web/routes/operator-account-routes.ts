import type { FastifyPluginAsync } from "fastify";
import { linkBase } from "../../api/page-links.ts";
import type { Services } from "../../services/services.ts";
import { formField } from "../form-body-parser.ts";
import { formError } from "../form-error.ts";
import { OPERATOR_PAGE_SIZE, operatorFrame, pageNumber, pathId } from "../operator-request.ts";
import { operatorAccountPage, operatorAccountsPage } from "../pages/operator-accounts-page.ts";
import { sendPage, session } from "../web-request.ts";

type WithId = { Params: { id: string } };

/** /admin/accounts: the accounts with their balances, an account's credit and invitation links. */
export const operatorAccountRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  const hide = { schema: { hide: true } };

  app.get("/admin/accounts", hide, async (request, reply) => {
    const page = pageNumber(request);
    const pageSize = OPERATOR_PAGE_SIZE;
    const [frame, { count, accounts }] = await Promise.all([
      operatorFrame(request, services),
      services.accounts.list(pageSize, (page - 1) * pageSize),
    ]);
    return sendPage(reply, operatorAccountsPage(frame, { accounts, count, page, pageSize }));
  });

  app.get<WithId>("/admin/accounts/:id", hide, async (request, reply) => {
    const account = await services.accounts.get(pathId(request.params.id, "Account"));
    return sendPage(reply, operatorAccountPage(await operatorFrame(request, services), account));
  });

  // The page is asked for again after a top-up (303), so that reloading it never adds the credit twice.
  app.post<WithId>("/admin/accounts/:id/credit", hide, async (request, reply) => {
    const id = pathId(request.params.id, "Account");
    const amount = formField(request.body, "amount").trim();
    const reason = formField(request.body, "reason").trim();
    try {
      await services.accounts.addCredit(id, amount, `operator:${session(request).accountId}`, { reason });
      return reply.redirect(`/admin/accounts/${id}`, 303);
    } catch (err) {
      const error = formError(err);
      if (error.status === 404) throw error;
      const [frame, account] = await Promise.all([
        operatorFrame(request, services),
        services.accounts.get(id),
      ]);
      return sendPage(
        reply,
        operatorAccountPage(frame, account, { credit: { error, amount, reason } }),
        error.status,
      );
    }
  });

  app.post<WithId>("/admin/accounts/:id/invitation", hide, async (request, reply) => {
    const id = pathId(request.params.id, "Account");
    const { token, expiresAt } = await services.invitations.create(id);
    const url = `${linkBase(request, services.config.publicUrl)}/invite/${token}`;
    const [frame, account] = await Promise.all([operatorFrame(request, services), services.accounts.get(id)]);
    return sendPage(reply, operatorAccountPage(frame, account, { invitation: { url, expiresAt } }));
  });
};
