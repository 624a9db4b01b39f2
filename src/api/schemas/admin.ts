import { Type } from "@sinclair/typebox";
import { AccountSchema } from "./catalogue.ts";
import { Money, Page, Paged, PageSize, PathId, Timestamp } from "./common.ts";

const Amount = Type.String({ pattern: "^\\d{1,12}(\\.\\d{1,2})?$", examples: ["25.00"] });

export const CreateAccountBody = Type.Object(
  { email: Type.String({ minLength: 3, maxLength: 320 }), credit: Type.Optional(Amount) },
  { additionalProperties: false },
);

export const CreatedAccount = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    balance: Money,
    currency: Type.String(),
    api_token: Type.String({ description: "Shown once; only its digest is stored." }),
  },
  { title: "CreatedAccount" },
);

export const CreditBody = Type.Object(
  {
    amount: Type.String({
      pattern: "^-?\\d{1,12}(\\.\\d{1,2})?$",
      description: "Added to the balance; negative to deduct.",
      examples: ["10.00"],
    }),
    kind: Type.Optional(
      Type.Union([Type.Literal("topup"), Type.Literal("correction")], {
        description:
          "The ledger entry it makes: `topup` (positive amounts; the default for them) or `correction` (either " +
          "sign; the default for negative amounts), which needs a `reason`.",
      }),
    ),
    reason: Type.Optional(
      Type.String({
        maxLength: 500,
        description: "Why: kept with the entry, required for a correction.",
        examples: ["Hours charged during the outage of 2030-01-14"],
      }),
    ),
  },
  { additionalProperties: false },
);

export const AdminAccountSchema = Type.Object(
  {
    ...AccountSchema.properties,
    operator: Type.Boolean({
      description: "Whether the account signs in to the web console's operator pages (`/admin`).",
    }),
  },
  { title: "AdminAccount" },
);

export const AccountList = Paged(AdminAccountSchema, "All accounts.");

export const AdminAccountDetail = Type.Object(
  {
    ...AdminAccountSchema.properties,
    ledger_sum: Money,
  },
  {
    title: "AdminAccountDetail",
    description:
      "`ledger_sum` is the sum of the account's ledger entries, which `balance` (kept with them) equals.",
  },
);

export const CreateTokenBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);

export const CreatedToken = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  api_token: Type.String(),
});

export const CreatedInvitation = Type.Object({
  url: Type.String({ description: "Opens a page that sets the account's password; works once." }),
  expires_at: Timestamp,
});

export const TokenParams = Type.Object({ id: PathId(), token_id: PathId() });

export const CreatePlanBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    vcpus: Type.Integer({ minimum: 1, maximum: 512 }),
    memory: Type.Integer({ minimum: 128, maximum: 4_194_304, description: "MiB" }),
    storage: Type.Integer({ minimum: 1, maximum: 1_000_000, description: "GB" }),
    bandwidth: Type.Integer({ minimum: 0, maximum: 100_000_000, description: "GB per month" }),
    price_hourly: Amount,
    price_monthly: Amount,
    locations: Type.Array(Type.String(), { description: "Codes of the locations that offer it." }),
  },
  { additionalProperties: false },
);

export const CreateOsBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    distribution: Type.String({ minLength: 1, maxLength: 50 }),
    version: Type.String({ minLength: 1, maxLength: 50 }),
    image: Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
      description: "File name of the base image in the driver's image directory (no path).",
      examples: ["ubuntu-22.04.qcow2"],
    }),
  },
  { additionalProperties: false },
);

export const CreateLocationBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 32 }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    country: Type.String({ minLength: 2, maxLength: 2, description: "ISO 3166-1 alpha-2" }),
  },
  { additionalProperties: false },
);

export const CodeParams = Type.Object({ code: Type.String({ maxLength: 32 }) });

export const AddAddressesBody = Type.Object(
  { cidr: Type.String({ maxLength: 64, examples: ["203.0.113.0/24", "2001:db8:1::/112"] }) },
  { additionalProperties: false },
);

export const AddedAddresses = Type.Object({ family: Type.Integer(), added: Type.Integer() });

export const AdminListQuery = Type.Object({
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
});
