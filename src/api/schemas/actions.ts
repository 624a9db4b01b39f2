import { Type } from "@sinclair/typebox";
import { CUSTOMER_COMMANDS } from "../../domain/lifecycle.ts";
import { Nullable, Paged, PathId, Timestamp } from "./common.ts";

export const ActionSchema = Type.Object(
  {
    id: Type.Integer(),
    command: Type.Unsafe<string>({
      type: "string",
      enum: [...CUSTOMER_COMMANDS],
      description: "What was done: `migrate` is the provider moving the server to another host.",
    }),
    status: Type.Unsafe<string>({
      type: "string",
      enum: ["running", "success", "error"],
      description: "`running` until the action ends; then `success` or `error`.",
    }),
    progress: Nullable(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description:
          "How far it is, as its host reports (a disk copy's progress); else 0 queued and 50 under way. 100 once " +
          "it succeeded; an action that ended in error shows how far it got, or null.",
      }),
    ),
    started_at: Timestamp,
    finished_at: Nullable(Timestamp),
    error: Nullable(
      Type.Object(
        { code: Type.String(), message: Type.String() },
        { description: "Why the action ended in error." },
      ),
    ),
    server_id: Type.Integer(),
    attempts: Type.Integer({
      description: "How many times the engine has tried it (retries after failures).",
    }),
    image_id: Nullable(
      Type.Integer({
        description:
          "The image it makes (`create_image`, `backup`) or restores (`create`, `rebuild`); else null.",
      }),
    ),
  },
  { title: "Action" },
);

export const ActionList = Paged(ActionSchema, "All actions of the server.");

export const ActionIdParams = Type.Object({ action_id: PathId() });
