import { Type } from "@sinclair/typebox";
import { SERVER_STATUSES, type ServerStatus } from "../../domain/server-status.ts";
import { Nullable, Page, Paged, PageSize, PathId, Timestamp } from "./common.ts";

export const ServerStatusSchema = Type.Unsafe<ServerStatus>({
  type: "string",
  enum: [...SERVER_STATUSES],
  description:
    "Transitions run in the background: provisioning→active|error, active→stopping→stopped, stopped→starting→active, active→rebooting→active, any→suspended.",
});

const name = Type.String({
  description: "1-63 letters, digits and hyphens, not starting or ending with a hyphen.",
  examples: ["web-server-01"],
});
const hostname = Type.String({
  description: "A fully qualified domain name.",
  examples: ["web01.example.com"],
});

const PlanSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  vcpus: Type.Integer(),
  memory: Type.Integer({ description: "MiB" }),
  storage: Type.Integer({ description: "GB" }),
});
const PlanDetail = Type.Object({
  ...PlanSummary.properties,
  bandwidth: Type.Integer({ description: "GB per month" }),
});
const OsRef = Type.Object({ id: Type.Integer(), name: Type.String() });

export const ServerSummary = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    hostname: Nullable(Type.String()),
    status: ServerStatusSchema,
    ip_address: Nullable(Type.String({ description: "Null until the server has been provisioned." })),
    location: Type.String(),
    plan: PlanSummary,
    os: OsRef,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: "ServerSummary" },
);

export const ResourceUsage = Type.Object({
  cpu_percent: Type.Number({ minimum: 0, maximum: 100 }),
  memory_used: Type.Integer({ description: "MiB" }),
  disk_used: Type.Integer({ description: "GB" }),
  bandwidth_used: Type.Integer({
    description:
      "GB used this calendar month: the larger of the GB received and sent (what the plan's bandwidth allows)",
  }),
});

export const ServerDetail = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    hostname: Nullable(Type.String()),
    status: ServerStatusSchema,
    ip_address: Nullable(Type.String({ description: "Null until the server has been provisioned." })),
    ipv6_address: Nullable(Type.String({ description: "Null until the server has been provisioned." })),
    location: Type.String(),
    plan: PlanDetail,
    os: OsRef,
    backups_enabled: Type.Boolean(),
    ssh: Nullable(
      Type.Object(
        { host: Type.String(), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
        {
          description:
            "Where the guest's SSH server is reached: the server's address and 22 on a bridged network, " +
            "a forwarded loopback port with user-mode networking. Null until the server has been provisioned.",
        },
      ),
    ),
    resource_usage: ResourceUsage,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: "Server" },
);

const ActionId = Type.Integer({
  description: "The action this request started: `GET /api/v1/actions/{action_id}/` follows it.",
});

export const CreatedServer = Type.Object(
  { ...ServerDetail.properties, message: Type.String(), action_id: ActionId },
  { title: "CreatedServer" },
);

export const ServerList = Paged(ServerSummary, "All servers matching the filters.");

export const ListServersQuery = Type.Object({
  status: Type.Optional(ServerStatusSchema),
  location: Type.Optional(Type.String({ description: "Location code, e.g. us-west." })),
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
});

export const CreateServerBody = Type.Object(
  {
    name,
    plan_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    os_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    location: Type.String({ minLength: 1, maxLength: 64, examples: ["us-west"] }),
    hostname: Type.Optional(hostname),
    ssh_key_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    backups_enabled: Type.Optional(Type.Boolean({ default: false })),
    image_id: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          "Make the server from this available image of the account's (a snapshot or backup) instead of a fresh " +
          "OS; `os_id` must then be the image's `os_id`.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const PutServerBody = Type.Object(
  { name, hostname, backups_enabled: Type.Boolean() },
  { additionalProperties: false },
);

export const PatchServerBody = Type.Object(
  {
    name: Type.Optional(name),
    hostname: Type.Optional(hostname),
    backups_enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ServerIdParams = Type.Object({ server_id: PathId("The server's unique id.") });

export const ResizeBody = Type.Object(
  {
    plan_id: Type.Integer({
      minimum: 1,
      description: "The new plan; its disk is at least the current one's.",
    }),
  },
  { additionalProperties: false },
);

export const PowerResponse = Type.Object({
  status: Type.Literal("success"),
  message: Type.String({ examples: ["Server is starting"] }),
  server: Type.Object({ id: Type.Integer(), name: Type.String(), status: ServerStatusSchema }),
  action_id: ActionId,
});
