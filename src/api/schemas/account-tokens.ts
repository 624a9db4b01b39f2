import { Type } from "@sinclair/typebox";
import { Nullable, Timestamp } from "./common.ts";

const tokenFields = {
  id: Type.Integer(),
  name: Type.String(),
  created_at: Timestamp,
  revoked_at: Nullable(Timestamp),
};

export const ApiTokenSchema = Type.Object(tokenFields, {
  title: "ApiToken",
  description: "One of the account's API tokens; the token itself is shown only when it is created.",
});

export const CreateApiTokenBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, examples: ["ci deploys"] }) },
  { additionalProperties: false },
);

export const CreatedApiToken = Type.Object(
  {
    ...tokenFields,
    api_token: Type.String({ description: "The token: shown in this answer only; store it now." }),
  },
  { title: "CreatedApiToken" },
);
