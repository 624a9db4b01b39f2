import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { pageOf } from "../page-links.ts";
import { presentLedgerEntry, presentStatement, presentUsage } from "../presenters/present-ledger.ts";
import { errors } from "../schemas/common.ts";
import {
  StatementList,
  StatementParams,
  StatementSchema,
  StatementsQuery,
  TransactionList,
  TransactionsQuery,
  UsageSchema,
} from "../schemas/ledger.ts";

/** What the account was charged and credited: its ledger's entries, this month's usage, its statements. */
export const accountLedgerRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  requireAccount(app, services.auth, services.rateLimits);
  const tags = ["account"];
  const security = bearerSecurity;

  app.get(
    "/api/v1/account/transactions/",
    {
      schema: {
        tags,
        operationId: "listAccountTransactions",
        security,
        summary: "The account's ledger entries",
        description:
          "Every change of the balance, newest first: top-ups, each server hour, backup and snapshot charges, " +
          "refunds and corrections. The balance is their sum. `kind`, `since` and `until` filter them.",
        querystring: TransactionsQuery,
        response: { 200: TransactionList, ...errors(400, 401) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50, kind, since, until } = request.query;
      const { count, entries } = await services.ledger.transactions(
        request.accountId,
        {
          ...(kind === undefined ? {} : { kinds: [kind] }),
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
        },
        pageSize,
        (page - 1) * pageSize,
      );
      return pageOf(
        request,
        services.config.publicUrl,
        "/api/v1/account/transactions/",
        { kind, since, until },
        { page, pageSize, count },
        entries.map(presentLedgerEntry),
      );
    },
  );

  app.get(
    "/api/v1/account/usage/",
    {
      schema: {
        tags,
        operationId: "getAccountUsage",
        security,
        summary: "This month's usage so far",
        description:
          "Per server charged this calendar month (UTC): its hours, what they and its backups cost so far, its " +
          "monthly cap, and what the month will cost at this rate.",
        response: { 200: UsageSchema, ...errors(401) },
      },
    },
    async (request) => {
      const [usage, account] = await Promise.all([
        services.ledger.usage(request.accountId),
        services.accounts.get(request.accountId),
      ]);
      return presentUsage(usage, account.currency);
    },
  );

  app.get(
    "/api/v1/account/statements/",
    {
      schema: {
        tags,
        operationId: "listAccountStatements",
        security,
        summary: "The account's monthly statements",
        description:
          "Closed months, newest first; a month is closed on the 1st of the next and never changes.",
        querystring: StatementsQuery,
        response: { 200: StatementList, ...errors(400, 401) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, statements } = await services.ledger.statements(
        request.accountId,
        pageSize,
        (page - 1) * pageSize,
      );
      return pageOf(
        request,
        services.config.publicUrl,
        "/api/v1/account/statements/",
        {},
        { page, pageSize, count },
        statements.map(presentStatement),
      );
    },
  );

  app.get(
    "/api/v1/account/statements/:month/",
    {
      schema: {
        tags,
        operationId: "getAccountStatement",
        security,
        summary: "A monthly statement",
        description: "The month (YYYY-MM) once closed: its lines per server and kind add up to its total.",
        params: StatementParams,
        response: { 200: StatementSchema, ...errors(401, 404) },
      },
    },
    async (request) =>
      presentStatement(await services.ledger.statement(request.accountId, request.params.month)),
  );
};
