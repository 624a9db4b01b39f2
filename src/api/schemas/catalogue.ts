import { Type } from "@sinclair/typebox";
import { Money } from "./common.ts";

export const PlanSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    vcpus: Type.Integer(),
    memory: Type.Integer({ description: "MiB" }),
    storage: Type.Integer({ description: "GB" }),
    bandwidth: Type.Integer({ description: "GB per month" }),
    price_hourly: Money,
    price_monthly: Money,
    currency: Type.String(),
    locations: Type.Array(Type.String(), { description: "Codes of the locations that offer the plan." }),
  },
  { title: "Plan" },
);

export const OsSchema = Type.Object(
  { id: Type.Integer(), name: Type.String(), distribution: Type.String(), version: Type.String() },
  { title: "OperatingSystem" },
);

export const LocationSchema = Type.Object(
  { id: Type.Integer(), code: Type.String(), name: Type.String(), country: Type.String() },
  { title: "Location" },
);

export const AccountSchema = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    balance: Money,
    currency: Type.String(),
    created_at: Type.String({ format: "date-time" }),
    low_balance_threshold: Type.String({
      pattern: "^\\d+\\.\\d{2}$",
      examples: ["5.00"],
      description:
        "A charge that takes the balance below this sends webhooks' `balance.low`, and the web console warns " +
        "below it: the account's own, or the operator's default (`VPS_LOW_BALANCE_THRESHOLD`).",
    }),
    low_balance_threshold_source: Type.Union([Type.Literal("account"), Type.Literal("default")], {
      description: "`account`: the account set its own threshold; `default`: it follows the operator's.",
    }),
  },
  { title: "Account" },
);

export const UpdateAccountBody = Type.Object(
  {
    low_balance_threshold: Type.Optional(
      Type.Union([Type.String({ pattern: "^\\d{1,12}(\\.\\d{1,2})?$", examples: ["10.00"] }), Type.Null()], {
        description:
          "The account's own low-balance threshold, at least 0.00 (0.00: never told before the balance reaches " +
          "zero); null to follow the operator's default again.",
      }),
    ),
  },
  { additionalProperties: false },
);
