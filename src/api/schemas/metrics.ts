import { Type } from "@sinclair/typebox";
import { MAX_POINTS } from "../../domain/usage-history.ts";
import { Timestamp } from "./common.ts";

export const MetricsQuery = Type.Object({
  type: Type.String({
    description: "One or more of `cpu`, `memory`, `disk`, `network`, separated by commas.",
    examples: ["cpu,network"],
  }),
  start: Type.String({ format: "date-time", description: "Start of the range (ISO 8601)." }),
  end: Type.String({ format: "date-time", description: "End of the range (ISO 8601), after the start." }),
  step: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 31 * 86_400,
      description:
        `Seconds per point, rounded up to whole minutes (a range starting within the last 24 hours) or hours ` +
        `(an older one); at most ${MAX_POINTS} points. Without it, the range in about 100 points.`,
    }),
  ),
});

const Series = Type.Object({
  values: Type.Array(
    // A pair as Hetzner's: a tuple's array `items` is not a schema of OpenAPI 3.1, so each item says it in words.
    Type.Array(Type.Union([Type.Integer(), Type.String()]), {
      minItems: 2,
      maxItems: 2,
      description: "[start of the bucket in unix seconds, value as a decimal string]",
    }),
    { description: "Oldest first; a bucket without samples has no point." },
  ),
});

export const MetricsResponse = Type.Object(
  {
    metrics: Type.Object({
      start: Timestamp,
      end: Timestamp,
      step: Type.Integer({ description: "Seconds per point, as used." }),
      time_series: Type.Record(Type.String(), Series, {
        description:
          "By name: `cpu` (average percent of the plan's vCPUs, 0–100), `memory.used` (average MiB), " +
          "`disk.0.used` (most GB in use), `network.0.bandwidth.in` and `network.0.bandwidth.out` (bytes per second " +
          "the server received and sent, counted on its host), `network.0.bandwidth` (both together).",
      }),
    }),
  },
  { title: "ServerMetrics" },
);
