import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AccountRow } from "../../db/schema.ts";
import { formatMoney } from "../../domain/money.ts";
import type { Services } from "../../services/services.ts";
import { adminSecurity, requireAdmin } from "../authenticate.ts";
import { idempotentPosts } from "../idempotency-hooks.ts";
import { linkBase, pageOf } from "../page-links.ts";
import {
  presentAdminAccount,
  presentLocation,
  presentOs,
  presentPlan,
} from "../presenters/present-catalogue.ts";
import { presentRevenue } from "../presenters/present-ledger.ts";
import {
  AccountList,
  AddAddressesBody,
  AddedAddresses,
  AdminAccountDetail,
  AdminAccountSchema,
  AdminListQuery,
  CodeParams,
  CreateAccountBody,
  CreatedAccount,
  CreatedInvitation,
  CreatedToken,
  CreateLocationBody,
  CreateOsBody,
  CreatePlanBody,
  CreateTokenBody,
  CreditBody,
  TokenParams,
} from "../schemas/admin.ts";
import { LocationSchema, OsSchema, PlanSchema, UpdateAccountBody } from "../schemas/catalogue.ts";
import { errors, IdParams, NoContent } from "../schemas/common.ts";
import { RevenueQuery, RevenueReport } from "../schemas/ledger.ts";

/** Who a change made through the admin API is recorded as: there is one admin token. */
const ADMIN_IDENTITY = "admin-token";

/** The operator's API, behind the admin token: accounts, tokens, credit and the catalogue. */
export const adminRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  requireAdmin(app, services.auth, services.rateLimits);
  // A retried top-up must not add the credit twice.
  idempotentPosts(app, services.idempotency);
  const tags = ["admin"];
  const security = adminSecurity;
  const present = (account: AccountRow) =>
    presentAdminAccount(account, services.config.lowBalanceThresholdMinor);

  app.post(
    "/api/v1/admin/accounts/",
    {
      schema: {
        tags,
        operationId: "adminCreateAccount",
        security,
        summary: "Create an account",
        description: "Returns the account's first API token, once.",
        body: CreateAccountBody,
        response: { 201: CreatedAccount, ...errors(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { account, token } = await services.accounts.create(
        request.body.email,
        request.body.credit ?? "0.00",
      );
      return reply.status(201).send({
        id: account.id,
        email: account.email,
        balance: formatMoney(account.balance_minor),
        currency: account.currency,
        api_token: token,
      });
    },
  );

  app.get(
    "/api/v1/admin/accounts/",
    {
      schema: {
        tags,
        operationId: "adminListAccounts",
        security,
        summary: "List accounts",
        querystring: AdminListQuery,
        response: { 200: AccountList, ...errors(400, 401) },
      },
    },
    async (request) => {
      const { page = 1, page_size: pageSize = 50 } = request.query;
      const { count, accounts } = await services.accounts.list(pageSize, (page - 1) * pageSize);
      return pageOf(
        request,
        services.config.publicUrl,
        "/api/v1/admin/accounts/",
        {},
        { page, pageSize, count },
        accounts.map(present),
      );
    },
  );

  app.get(
    "/api/v1/admin/accounts/:id/",
    {
      schema: {
        tags,
        operationId: "adminGetAccount",
        security,
        summary: "An account",
        description: "With `ledger_sum`, the sum of its ledger entries, which its balance must equal.",
        params: IdParams,
        response: { 200: AdminAccountDetail, ...errors(401, 404) },
      },
    },
    async (request) => {
      const { account, ledgerMinor } = await services.ledger.balanceCheck(request.params.id);
      return { ...present(account), ledger_sum: formatMoney(ledgerMinor) };
    },
  );

  app.patch(
    "/api/v1/admin/accounts/:id/",
    {
      schema: {
        tags,
        operationId: "adminUpdateAccount",
        security,
        summary: "Change an account",
        description:
          "`low_balance_threshold`: the account's own threshold, or null to follow the default " +
          "(`VPS_LOW_BALANCE_THRESHOLD`), as the account itself sets it with `PATCH /api/v1/account/`.",
        params: IdParams,
        body: UpdateAccountBody,
        response: { 200: AdminAccountSchema, ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request) => present(await services.accounts.update(request.params.id, request.body)),
  );

  app.get(
    "/api/v1/admin/reports/revenue/",
    {
      schema: {
        tags,
        operationId: "adminRevenueReport",
        security,
        summary: "Revenue per plan and location",
        description:
          "Server hours, backups and snapshot storage charged in [start, end), less refunds, per plan and the " +
          "location of the server.",
        querystring: RevenueQuery,
        response: { 200: RevenueReport, ...errors(400, 401) },
      },
    },
    async (request) => {
      const { start, end } = request.query;
      return presentRevenue(start, end, await services.ledger.revenue(start, end));
    },
  );

  app.post(
    "/api/v1/admin/accounts/:id/credit/",
    {
      schema: {
        tags,
        operationId: "adminCreditAccount",
        security,
        summary: "Add credit to an account",
        description:
          "A ledger entry naming the admin token: a `topup`, or a `correction` (the kind of any negative amount), " +
          "which needs a `reason`.",
        params: IdParams,
        body: CreditBody,
        response: { 200: AdminAccountSchema, ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request) =>
      present(
        await services.accounts.addCredit(request.params.id, request.body.amount, ADMIN_IDENTITY, {
          ...(request.body.kind === undefined ? {} : { kind: request.body.kind }),
          ...(request.body.reason === undefined ? {} : { reason: request.body.reason }),
        }),
      ),
  );

  app.post(
    "/api/v1/admin/accounts/:id/operator/",
    {
      schema: {
        tags,
        operationId: "adminMakeOperator",
        security,
        summary: "Make an account an operator of the web console",
        description:
          "The account, signed in to the web console with its own password, sees the operator pages under " +
          "`/admin` (accounts and credit, hosts, the catalogue, address pools, failed actions). Making an " +
          "operator again changes nothing.",
        params: IdParams,
        response: { 200: AdminAccountSchema, ...errors(401, 404) },
      },
    },
    async (request) => present(await services.accounts.setOperator(request.params.id, true)),
  );

  app.delete(
    "/api/v1/admin/accounts/:id/operator/",
    {
      schema: {
        tags,
        operationId: "adminRemoveOperator",
        security,
        summary: "Make an operator a customer again",
        description: "Its browsers are refused the operator pages from their next request on.",
        params: IdParams,
        response: { 204: NoContent, ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      await services.accounts.setOperator(request.params.id, false);
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/admin/accounts/:id/tokens/",
    {
      schema: {
        tags,
        operationId: "adminCreateAccountToken",
        security,
        summary: "Issue another API token for an account",
        params: IdParams,
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errors(400, 401, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const { id, name, token } = await services.accounts.issueToken(
        request.params.id,
        request.body?.name ?? "api",
      );
      return reply.status(201).send({ id, name, api_token: token });
    },
  );

  app.post(
    "/api/v1/admin/accounts/:id/invitation/",
    {
      schema: {
        tags,
        operationId: "adminCreateInvitation",
        security,
        summary: "Make an invitation link that sets the account's password",
        description:
          "The link opens the web console's page that sets the account's password (replacing any it had), " +
          "once, until `expires_at` (VPS_INVITATION_TTL_MS, 72 hours by default).",
        params: IdParams,
        response: { 201: CreatedInvitation, ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const { token, expiresAt } = await services.invitations.create(request.params.id);
      const url = `${linkBase(request, services.config.publicUrl)}/invite/${token}`;
      return reply.status(201).send({ url, expires_at: expiresAt });
    },
  );

  app.delete(
    "/api/v1/admin/accounts/:id/tokens/:token_id/",
    {
      schema: {
        tags,
        operationId: "adminDeleteAccountToken",
        security,
        summary: "Revoke an API token",
        params: TokenParams,
        response: { 204: NoContent, ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      await services.accounts.revokeToken(request.params.id, request.params.token_id);
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/admin/plans/",
    {
      schema: {
        tags,
        operationId: "adminCreatePlan",
        security,
        summary: "Add a plan",
        body: CreatePlanBody,
        response: { 201: PlanSchema, ...errors(400, 401, 413, 415) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(presentPlan(await services.catalogue.createPlan(request.body))),
  );

  app.post(
    "/api/v1/admin/os/",
    {
      schema: {
        tags,
        operationId: "adminCreateOs",
        security,
        summary: "Add an operating system",
        body: CreateOsBody,
        response: { 201: OsSchema, ...errors(400, 401, 413, 415) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(presentOs(await services.catalogue.createOs(request.body))),
  );

  app.post(
    "/api/v1/admin/locations/",
    {
      schema: {
        tags,
        operationId: "adminCreateLocation",
        security,
        summary: "Add a location",
        body: CreateLocationBody,
        response: { 201: LocationSchema, ...errors(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(presentLocation(await services.catalogue.createLocation(request.body))),
  );

  app.post(
    "/api/v1/admin/locations/:code/addresses/",
    {
      schema: {
        tags,
        operationId: "adminAddLocationAddresses",
        security,
        summary: "Add a block of addresses to a location's pool",
        description:
          "IPv4 or IPv6, in CIDR notation; at most 65,536 addresses a request. All of the block's addresses are " +
          "added, or none: a block that shares any address with a pool (of any location) is a 409 " +
          "`address_range_overlaps` naming the pool and the addresses.",
        params: CodeParams,
        body: AddAddressesBody,
        response: { 201: AddedAddresses, ...errors(400, 401, 404, 409, 413, 415) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await services.catalogue.addAddresses(request.params.code, request.body.cidr)),
  );
};
