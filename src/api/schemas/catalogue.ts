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
  },
  { title: "Account" },
);
