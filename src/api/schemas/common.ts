import { type TSchema, Type } from "@sinclair/typebox";

/** `T` or null, written as a JSON Schema type array so OpenAPI 3.1 and the serialiser both read it directly. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Unsafe<T["static"] | null>({ ...schema, type: [schema.type as string, "null"] });
}

export const Timestamp = Type.String({ format: "date-time", examples: ["2025-01-16T15:30:00Z"] });
export const Money = Type.String({ pattern: "^-?\\d+\\.\\d{2}$", examples: ["12.50"] });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: "Stable machine-readable code, e.g. invalid_input, not_found." }),
      message: Type.String(),
      fields: Type.Optional(
        Type.Record(Type.String(), Type.Array(Type.String()), {
          description:
            'Messages per invalid field: the first 10 fields, then an entry `…` saying how many more, e.g. `["and 4990 more"]`.',
        }),
      ),
      action_id: Type.Optional(
        Type.Integer({
          description:
            "With `server_busy`: the action in flight that the request met; `GET /api/v1/actions/{id}/?wait=…` waits for it.",
        }),
      ),
    }),
  },
  { $id: "Error", title: "Error" },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad request: invalid parameters, or an action the server's status does not allow.",
  401: "Unauthorized: the API token is missing or invalid.",
  402: "Payment required: insufficient credit.",
  404: "Not found.",
  409: "Conflict.",
  413: "Request body too large.",
  415: "Unsupported media type: send application/json.",
  429: "Rate limited: the token's read or write budget for this window is spent; see Retry-After.",
  503: "Service unavailable.",
};

/** Response schemas for the error statuses a route can answer with. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      Type.Ref(ErrorBody, { description: ERROR_DESCRIPTIONS[status] ?? "Error." }),
    ]),
  );
}

/**
 * An id in a path. The validator reads it with parseCanonicalId (src/api/canonical-id.ts): only canonical
 * decimal digits name a resource; any other spelling of a number is a 404.
 */
export function PathId(description?: string) {
  return Type.Integer({
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    ...(description === undefined ? {} : { description }),
  });
}

export const IdParams = Type.Object({ id: PathId() });

/**
 * Query parameters of a paged list. Pages are bounded so that the row offset stays an exact integer that
 * every database accepts; an unbounded page (such as 1e20) made the offset a float that SQLite refuses.
 */
/** The Idempotency-Key request header that every customer POST accepts. */
export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        "Makes a retry safe: within 24 hours, the same key and body get the first response again (with " +
        "`Idempotent-Replayed: true`) and nothing is done twice; the same key with another body is a 409 " +
        "`idempotency_key_reused`. Only work done (2xx) is kept: after a 4xx or 5xx the same key may be " +
        "retried. Scoped to the account.",
    }),
  ),
});

export const WaitSeconds = Type.Integer({
  minimum: 0,
  maximum: 60,
  description: "Hold the request up to this many seconds until the awaited change happens (at most 60).",
});

export const Page = Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 });
export const PageSize = Type.Integer({ minimum: 1, maximum: 500, default: 50 });

/** A paged list (see pageOf in page-links.ts); `count` says what `what` counts. */
export function Paged<T extends TSchema>(item: T, what: string) {
  return Type.Object({
    count: Type.Integer({ minimum: 0, description: what }),
    next: Nullable(Type.String({ description: "URL of the next page." })),
    previous: Nullable(Type.String({ description: "URL of the previous page." })),
    results: Type.Array(item),
  });
}

/** A list that is not paged: everything at once. */
export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ count: Type.Integer({ minimum: 0 }), results: Type.Array(item) });
}

export const NoContent = Type.Unsafe<undefined>({ description: "No content." });

/** The schema with the description OpenAPI shows for a response. */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}
