import { type TProperties, Type } from "@sinclair/typebox";
import { DEFAULT_JOIN_TOKEN_TTL_SECONDS, MAX_JOIN_TOKEN_TTL_SECONDS } from "../../domain/host-secrets.ts";
import { Nullable, Page, Paged, PageSize, PathId, Timestamp } from "./common.ts";

function perResource<T extends TProperties[string]>(schema: T, description: string) {
  return Type.Object({ vcpus: schema, memory_mb: schema, disk_gb: schema }, { description });
}

function somePerResource<T extends TProperties[string]>(schema: T, description: string) {
  return Type.Object(
    { vcpus: Type.Optional(schema), memory_mb: Type.Optional(schema), disk_gb: Type.Optional(schema) },
    { additionalProperties: false, description },
  );
}

const Amount = Type.Integer({ minimum: 0 });

export const HostSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    location: Type.String({ description: "The location's code." }),
    state: Type.Union(
      ["enabled", "disabled", "draining", "down"].map((s) => Type.Literal(s)),
      {
        description:
          "`down` when the host has not been heard from for VPS_HOST_DOWN_AFTER_MS (30 s; or never joined), " +
          "whatever was set.",
      },
    ),
    admin_state: Type.Union(
      ["enabled", "disabled", "draining"].map((s) => Type.Literal(s)),
      { description: "What the operator set." },
    ),
    capacity: perResource(Amount, "Totals as the host reported them (0 until it joins)."),
    reserved: perResource(Amount, "Kept back for the host itself."),
    allocation_ratios: perResource(Type.Number(), "Overcommit ratios: defaults 4.0, 1.0, 1.0."),
    allocated: perResource(Amount, "What the servers placed on the host hold."),
    free: perResource(Amount, "(capacity − reserved) × ratio − allocated, in whole units, never below 0."),
    server_count: Type.Integer(),
    last_heartbeat_at: Nullable(Timestamp),
    agent_version: Nullable(Type.String()),
    driver: Nullable(Type.String()),
    images: Nullable(
      Type.Array(Type.String(), {
        description:
          "The OS images (file names) the host reported; null: every image (a sim host, or not reported).",
      }),
    ),
    has_credential: Type.Boolean({ description: "Whether the host's agent holds a live credential." }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: "Host" },
);

export const HostList = Paged(HostSchema, "Hosts matching the filters.");

const JoinTokenTtl = Type.Integer({
  minimum: 60,
  maximum: MAX_JOIN_TOKEN_TTL_SECONDS,
  description: `Seconds until the join token expires (default ${DEFAULT_JOIN_TOKEN_TTL_SECONDS}).`,
});

export const RegisterHostBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253, examples: ["hv1.fra.example.net"] }),
    location: Type.String({ minLength: 1, maxLength: 32, description: "A location's code." }),
    join_token_ttl_seconds: Type.Optional(JoinTokenTtl),
  },
  { additionalProperties: false },
);

export const JoinTokenBody = Type.Union([
  Type.Object({ join_token_ttl_seconds: Type.Optional(JoinTokenTtl) }, { additionalProperties: false }),
  Type.Null(),
]);

const JoinTokenFields = {
  join_token: Type.String({ description: "Single use; shown once, stored only as a digest." }),
  join_token_expires_at: Timestamp,
};

export const IssuedJoinToken = Type.Object(JoinTokenFields);

export const RegisteredHost = Type.Object({ host: HostSchema, ...JoinTokenFields });

export const UpdateHostBody = Type.Object(
  {
    reserved: Type.Optional(somePerResource(Type.Integer(), "Whole units, from 0.")),
    allocation_ratios: Type.Optional(
      somePerResource(Type.Number(), "From 0.001 to 1000, with at most three decimals."),
    ),
  },
  { additionalProperties: false },
);

export const HostListQuery = Type.Object({
  location: Type.Optional(Type.String({ maxLength: 32, description: "A location's code." })),
  state: Type.Optional(Type.Union(["enabled", "disabled", "draining", "down"].map((s) => Type.Literal(s)))),
  order: Type.Optional(
    Type.Union([Type.Literal("id"), Type.Literal("free_memory")], {
      description: "`free_memory`: most free memory first (ties by id).",
    }),
  ),
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
});

export const HostParams = Type.Object({ id: PathId() });

export const RevokedCredentials = Type.Object({
  revoked: Type.Integer({ description: "How many live credentials were revoked." }),
});

export const JoinBody = Type.Object(
  {
    join_token: Type.String({ minLength: 1, maxLength: 512 }),
    capacity: perResource(Type.Integer(), "What the host has in all."),
    agent_version: Type.String({ minLength: 1, maxLength: 64 }),
    driver: Type.String({ minLength: 1, maxLength: 32, examples: ["qemu"] }),
    images: Type.Optional(
      Nullable(
        Type.Array(Type.String({ minLength: 1, maxLength: 255, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" }), {
          maxItems: 10_000,
          uniqueItems: true,
          description:
            "The OS images (file names) the host has: placement puts a server only where its OS's image is. " +
            "Left out or null: every image.",
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const Joined = Type.Object({
  host_id: Type.Integer(),
  credential: Type.String({ description: "The agent's credential: shown once, stored only as a digest." }),
});

export const AgentHost = Type.Object({
  host_id: Type.Integer(),
  name: Type.String(),
  state: HostSchema.properties.state,
});

export const MigrateBody = Type.Union([
  Type.Object(
    {
      target_host_id: Type.Optional(
        Type.Integer({ minimum: 1, description: "The host to move to; placement chooses when absent." }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

export const MigrationSchema = Type.Object(
  {
    id: Type.Integer(),
    server_id: Type.Integer(),
    source_host_id: Type.Integer(),
    target_host_id: Type.Integer(),
    state: Type.Union(["running", "succeeded", "failed"].map((s) => Type.Literal(s))),
    was_running: Type.Boolean({ description: "The machine ran: it is started again where it ends up." }),
    disk_bytes: Type.Union([Type.Integer(), Type.Null()]),
    checksum: Type.Union([Type.String(), Type.Null()], { description: "sha256 of the disk, hex." }),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    created_at: Type.String({ format: "date-time" }),
    finished_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  },
  { title: "Migration" },
);

export const MigrationParams = Type.Object({ id: HostParams.properties.id });

export const Drained = Type.Object({
  ...HostSchema.properties,
  migrations: Type.Object({
    queued: Type.Integer({ description: "Migrations asked for now, one per server not moving already." }),
    refused: Type.Array(
      Type.Object({ server_id: Type.Integer(), code: Type.String(), message: Type.String() }),
      { description: "Servers that cannot move now (no room elsewhere, busy, in error): drain again later." },
    ),
  }),
});
