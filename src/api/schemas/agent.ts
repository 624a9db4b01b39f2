import { Type } from "@sinclair/typebox";
import { OPERATION_KINDS } from "../../domain/lifecycle.ts";
import { MAX_CLAIM_WAIT_SECONDS } from "../../services/agent-service.ts";
import { Nullable, Timestamp } from "./common.ts";
import { HostSchema, JoinBody } from "./hosts.ts";

// The agent routes carry the host link's data (src/engine/host-link.ts) in the API's snake_case.

const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const HeartbeatBody = Type.Object(
  {
    capacity: JoinBody.properties.capacity,
    agent_version: JoinBody.properties.agent_version,
    driver: JoinBody.properties.driver,
    images: JoinBody.properties.images,
    transfer_url: Type.Optional(
      Nullable(
        Type.String({
          pattern: "^https?://[^\\s/]+$",
          maxLength: 300,
          description: "Where the agent serves disks to migrations' targets (VPS_AGENT_TRANSFER_ADDRESS).",
        }),
      ),
    ),
  },
  { additionalProperties: false },
);

export const HeartbeatAnswer = Type.Object({
  host_id: Type.Integer(),
  name: Type.String(),
  state: HostSchema.properties.state,
  admin_state: HostSchema.properties.admin_state,
});

/** An agent process's random id: its claims' leases carry it, so its next start can tell them from its own. */
const Instance = Type.String({
  pattern: "^[a-z0-9]{8,32}$",
  description:
    "The agent process's own random id (8 to 32 lowercase letters and digits), the same in every call.",
});

export const ClaimBody = Type.Object(
  {
    instance: Type.Optional(Instance),
    limit: Type.Integer({ minimum: 1, maximum: 100, description: "How many operations at most." }),
    wait_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_CLAIM_WAIT_SECONDS,
        default: 0,
        description: "How long to wait for an operation when none is due (long poll).",
      }),
    ),
  },
  { additionalProperties: false },
);

const OperationError = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64 }),
    message: Type.String({ maxLength: 2000 }),
  },
  { additionalProperties: false },
);

const SshEndpoint = Type.Object(
  { host: Type.String({ minLength: 1, maxLength: 255 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);

const MachineSpec = Type.Object(
  {
    id: Type.String({ description: "The machine's name on the host: the server's id." }),
    hostname: Type.String(),
    vcpus: Type.Integer(),
    memory_mb: Type.Integer(),
    storage_gb: Type.Integer(),
    image: Type.String({ description: "The OS's base image." }),
    ssh_public_key: Nullable(Type.String()),
    ipv4: Nullable(Type.String()),
    ipv6: Nullable(Type.String()),
  },
  {
    description: "For a create, a rebuild or a migrate_in: the machine to define; null for the other kinds.",
  },
);

const Sha256 = Type.String({ pattern: "^[0-9a-f]{64}$" });
const Bytes = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const ImageRef = Type.Object(
  {
    id: Type.Integer(),
    key: Type.String({ description: "Its key in the image store." }),
    size: Nullable(Bytes),
    sha256: Nullable(Sha256),
  },
  {
    description:
      "For a snapshot or backup: the image to write (size and sha256 null). For a create or rebuild from an " +
      "image: the image to restore, with the size and sha256 it must have.",
  },
);

export const ClaimedOperationSchema = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.Union(OPERATION_KINDS.map((k) => Type.Literal(k))),
    server_id: Type.Integer(),
    attempt: Type.Integer(),
    max_attempts: Type.Integer(),
    owner: Type.String({ description: "With `attempt`, the lease that every later call about it carries." }),
    lease_expires_at: Timestamp,
    server_deleted: Type.Boolean({
      description:
        "The server was deleted while the operation waited: only a delete's destroy is left to do.",
    }),
    spec: Nullable(MachineSpec),
    unrunnable: Nullable(OperationError),
    transfer: Type.Optional(
      Nullable(
        Type.Object(
          {
            url: Type.String(),
            token: Type.String({ description: "Single-use: the source serves the disk once for it." }),
            size: Type.Integer(),
            sha256: Type.String(),
            start: Type.Boolean(),
          },
          { description: "For a migrate_in: where to fetch the disk, and whether to start the machine." },
        ),
      ),
    ),
    image: Type.Optional(Nullable(ImageRef)),
  },
  { title: "ClaimedOperation" },
);

export const Claimed = Type.Object({ operations: Type.Array(ClaimedOperationSchema) });

export const Lease = Type.Object(
  {
    owner: Type.String({ minLength: 1, maxLength: 128 }),
    attempt: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  },
  { additionalProperties: false, description: "The lease the claim handed out: its owner and attempt." },
);

export const LeaseBody = Type.Object({ lease: Lease }, { additionalProperties: false });

export const Extended = Type.Object({
  lease_expires_at: Timestamp,
  lease_ms: Type.Integer({
    minimum: 0,
    description:
      "How long the renewed lease holds from the renewal: an agent measures it on its own clock, so clocks need not agree.",
  }),
});

export const ResultBody = Type.Union([
  Type.Object(
    {
      lease: Lease,
      outcome: Type.Object(
        {
          ssh: Type.Optional(Nullable(SshEndpoint)),
          disk: Type.Optional(
            Nullable(
              Type.Object(
                { size: Bytes, sha256: Sha256 },
                { additionalProperties: false, description: "For a migrate_out: the disk made ready." },
              ),
            ),
          ),
          image: Type.Optional(
            Nullable(
              Type.Object(
                {
                  size: Bytes,
                  sha256: Sha256,
                  consistency: Type.Union([Type.Literal("filesystem"), Type.Literal("crash")]),
                },
                {
                  additionalProperties: false,
                  description: "For a snapshot or backup: the image as the store recorded it.",
                },
              ),
            ),
          ),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false, title: "Succeeded" },
  ),
  Type.Object(
    { lease: Lease, error: OperationError, permanent: Type.Boolean() },
    { additionalProperties: false, title: "Failed" },
  ),
]);

export const ProgressBody = Type.Object(
  {
    lease: Lease,
    percent: Type.Integer({ minimum: 0, maximum: 100, description: "How far the operation's steps are." }),
  },
  { additionalProperties: false },
);

export const ResultAnswer = Type.Object({
  status: Type.Union(
    ["succeeded", "failed", "cancelled", "pending"].map((s) => Type.Literal(s)),
    {
      description: "How the operation ended; `pending`: queued to run again at `retry_at`.",
    },
  ),
  retry_at: Type.Optional(Timestamp),
});

export const ReleaseBody = Type.Object(
  {
    leases: Type.Array(
      Type.Object({ id: Type.Integer({ minimum: 1 }), lease: Lease }, { additionalProperties: false }),
      {
        maxItems: 1000,
      },
    ),
  },
  { additionalProperties: false },
);

export const Released = Type.Object({ released: Count });

export const ReleaseStaleBody = Type.Object({ instance: Instance }, { additionalProperties: false });

const Stats = Type.Object(
  {
    cpu_time_ns: Count,
    memory_used_mb: Count,
    disk_used_gb: Count,
    net_in_bytes: Type.Optional(Count),
    net_out_bytes: Type.Optional(Count),
    net_bytes: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "Both directions at once, as an agent from before they were told apart sends them.",
      }),
    ),
  },
  { additionalProperties: false, description: "Cumulative counters of a running machine." },
);

export const ReportBody = Type.Object(
  {
    machines: Type.Array(
      Type.Object(
        {
          server_id: Type.Integer({ minimum: 1 }),
          power: Type.Union((["running", "stopped", "missing"] as const).map((s) => Type.Literal(s))),
          usage: Type.Optional(Nullable(Stats)),
        },
        { additionalProperties: false },
      ),
      {
        maxItems: 10_000,
        description:
          "Every machine of the host: a server of the host that is not named (nor in `unsure`) has no machine.",
      },
    ),
    unsure: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1 }), {
        maxItems: 10_000,
        description:
          "Servers whose operation ended while the machines were observed: not judged by this report.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const ReportAnswer = Type.Object({
  applied: Type.Integer({ description: "Servers of this host whose status and usage the report set." }),
  ignored: Type.Integer({ description: "Servers named that are not on this host: left untouched." }),
  reconciled: Type.Boolean({
    description:
      "The first report after the host returned from down: the host follows the database instead of the reverse.",
  }),
  queued: Type.Integer({
    description: "Operations the reconciliation queued to correct the host's machines.",
  }),
  destroy: Type.Array(Type.Integer(), {
    description: "Machines of no server (by the id they are named after): the agent destroys them.",
  }),
});

export const TransferBody = Type.Object(
  {
    server_id: Type.Integer({ minimum: 1 }),
    token: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const ConsoleGrantBody = Type.Object(
  {
    server_id: Type.Integer({ minimum: 1 }),
    grant: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export const TransferAnswer = Type.Object({
  size: Type.Integer({ description: "The disk's size in bytes, as the source exported it." }),
  sha256: Type.String({ description: "Its checksum, which the source checks before it sends." }),
});
