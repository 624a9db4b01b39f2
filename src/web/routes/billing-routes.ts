import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { Page, PageSize } from "../../api/schemas/common.ts";
import { LEDGER_KINDS, type LedgerKind } from "../../domain/ledger.ts";
import { lowBalanceThreshold } from "../../domain/low-balance.ts";
import type { Services } from "../../services/services.ts";
import { billingPage } from "../pages/billing-page.ts";
import { statementPage } from "../pages/statement-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage } from "../web-request.ts";

/** Transactions on one page unless `?page_size=` asks for another number (the API's default and bounds). */
const TRANSACTIONS_PAGE_SIZE = 50;
/** Statements listed on the billing page: ten years of months. */
const STATEMENTS_SHOWN = 120;

/** `?page=`, `?page_size=` and `?kind=` as the API takes them (an empty kind is every kind); else a 400 page. */
const BillingQuery = Type.Object({
  page: Type.Optional(Page),
  page_size: Type.Optional({ ...PageSize, default: TRANSACTIONS_PAGE_SIZE }),
  kind: Type.Optional(Type.Union([...LEDGER_KINDS.map((kind) => Type.Literal(kind)), Type.Literal("")])),
});
type Billing = { Querystring: { page: number; page_size: number; kind?: LedgerKind | "" } };

/** /billing (balance, this month's usage, transactions, statements) and a statement's printable page. */
export const billingRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };

  app.get<Billing>(
    "/billing",
    { schema: { hide: true, querystring: BillingQuery } },
    async (request, reply) => {
      const frame = await signedInFrame(services, request);
      const { accountId } = frame;
      const { page, page_size: pageSize } = request.query;
      const kind = request.query.kind || undefined;
      const [account, usage, transactions, statements] = await Promise.all([
        services.accounts.get(accountId),
        services.ledger.usage(accountId),
        services.ledger.transactions(
          accountId,
          kind ? { kinds: [kind] } : {},
          pageSize,
          (page - 1) * pageSize,
        ),
        services.ledger.statements(accountId, STATEMENTS_SHOWN, 0),
      ]);
      const view = {
        balanceMinor: account.balance_minor,
        threshold: {
          minor: lowBalanceThreshold(
            account.low_balance_threshold_minor,
            services.config.lowBalanceThresholdMinor,
          ),
          own: account.low_balance_threshold_minor !== null,
        },
        currency: account.currency,
        usage,
        transactions: { ...transactions, page, pageSize, defaultPageSize: TRANSACTIONS_PAGE_SIZE, kind },
        statements: statements.statements,
      };
      return sendPage(reply, billingPage(frame, view));
    },
  );

  // Another account's month, or no month at all, is the 404 of a page that does not exist.
  app.get<{ Params: { month: string } }>("/billing/statements/:month", hide, async (request, reply) => {
    const frame = await signedInFrame(services, request);
    const statement = await services.ledger.statement(frame.accountId, request.params.month);
    const ids = statement.lines.flatMap((line) => (line.server_id === null ? [] : [line.server_id]));
    const names = await services.ledger.serverNames(frame.accountId, ids);
    return sendPage(reply, statementPage(frame, statement, names));
  });
};
