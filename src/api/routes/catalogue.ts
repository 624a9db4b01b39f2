import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../services/services.ts";
import { bearerSecurity, requireAccount } from "../authenticate.ts";
import { presentAccount, presentLocation, presentOs, presentPlan } from "../presenters/present-catalogue.ts";
import {
  AccountSchema,
  LocationSchema,
  OsSchema,
  PlanSchema,
  UpdateAccountBody,
} from "../schemas/catalogue.ts";
import { errors, ListOf } from "../schemas/common.ts";

/** What the servers' fields refer to: plans, operating systems, locations, and the caller's account. */
export const catalogueRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  requireAccount(app, services.auth, services.rateLimits);
  const security = bearerSecurity;
  const lowDefault = services.config.lowBalanceThresholdMinor;

  app.get(
    "/api/v1/plans/",
    {
      schema: {
        tags: ["catalogue"],
        operationId: "listPlans",
        security,
        summary: "List plans",
        description: "Sizes and prices, with the locations that offer each plan.",
        response: { 200: ListOf(PlanSchema), ...errors(401) },
      },
    },
    async () => {
      const plans = await services.catalogue.listPlans();
      return { count: plans.length, results: plans.map(presentPlan) };
    },
  );

  app.get(
    "/api/v1/os/",
    {
      schema: {
        tags: ["catalogue"],
        operationId: "listOs",
        security,
        summary: "List operating systems",
        response: { 200: ListOf(OsSchema), ...errors(401) },
      },
    },
    async () => {
      const systems = await services.catalogue.listOs();
      return { count: systems.length, results: systems.map(presentOs) };
    },
  );

  app.get(
    "/api/v1/locations/",
    {
      schema: {
        tags: ["catalogue"],
        operationId: "listLocations",
        security,
        summary: "List locations",
        response: { 200: ListOf(LocationSchema), ...errors(401) },
      },
    },
    async () => {
      const locations = await services.catalogue.listLocations();
      return { count: locations.length, results: locations.map(presentLocation) };
    },
  );

  app.get(
    "/api/v1/account/",
    {
      schema: {
        tags: ["account"],
        operationId: "getAccount",
        security,
        summary: "The caller's account",
        description: "Balance, currency and low-balance threshold of the account the token belongs to.",
        response: { 200: AccountSchema, ...errors(401) },
      },
    },
    async (request) => presentAccount(await services.accounts.get(request.accountId), lowDefault),
  );

  app.patch(
    "/api/v1/account/",
    {
      schema: {
        tags: ["account"],
        operationId: "updateAccount",
        security,
        summary: "Change the caller's account",
        description:
          "`low_balance_threshold`: the account's own threshold (`\"10.00\"`), or null to follow the operator's " +
          "default. The next charge that takes the balance from at or above it to below it sends `balance.low`.",
        body: UpdateAccountBody,
        response: { 200: AccountSchema, ...errors(400, 401, 413, 415) },
      },
    },
    async (request) =>
      presentAccount(await services.accounts.update(request.accountId, request.body), lowDefault),
  );
};
