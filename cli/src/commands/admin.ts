import { Command, Option } from "commander";
import { example } from "../help-example.ts";
import { collect, printOutput } from "../output.ts";
import { accountId, hostId } from "../resolve-name.ts";
import {
  ACCOUNT_TABLE,
  accountAccessCommands,
  hostCredentialsCommand,
  migrationCommands,
} from "./admin-access.ts";
import { adminAction, integer } from "./admin-action.ts";
import { revenueCommand } from "./admin-revenue.ts";
import { LOCATION_TABLE, OS_TABLE, PLAN_TABLE } from "./catalogue.ts";

const HOST_TABLE = {
  columns: [
    "id",
    "name",
    "location",
    "state",
    "server_count",
    "free.vcpus",
    "free.memory_mb",
    "free.disk_gb",
    "driver",
  ],
};

function accounts(): Command {
  const command = new Command("account").alias("accounts").description("customer accounts");
  command.addCommand(
    example(new Command("list").description("list accounts"), "vps admin account list").action(
      adminAction(async (admin, globals) =>
        printOutput(await collect(admin.pages("/api/v1/admin/accounts/")), globals, ACCOUNT_TABLE),
      ),
    ),
  );
  command.addCommand(
    example(
      new Command("create")
        .description("open an account; its first API token is shown once")
        .requiredOption("--email <email>", "the customer's email")
        .option("--credit <amount>", "opening credit, e.g. 25.00"),
      "vps admin account create --email ann@example.com --credit 25.00",
    ).action(
      adminAction(async (admin, globals, options: { email: string; credit?: string }) => {
        const { data } = await admin.POST("/api/v1/admin/accounts/", {
          body: { email: options.email, credit: options.credit },
        });
        printOutput(data, globals, { columns: ["id", "email", "balance", "api_token"] });
      }),
    ),
  );
  command.addCommand(
    example(
      new Command("describe").description("show an account").argument("<account>", "its email or id"),
      "vps admin account describe ann@example.com",
    ).action(
      adminAction(async (admin, globals, ref: string) => {
        const { data } = await admin.GET("/api/v1/admin/accounts/{id}/", {
          params: { path: { id: await accountId(admin, ref) } },
        });
        printOutput(data, globals, ACCOUNT_TABLE);
      }),
    ),
  );
  command.addCommand(
    example(
      new Command("credit")
        .description("add credit to an account's balance (negative to deduct), a topup or a correction")
        .argument("<account>", "its email or id")
        .argument("<amount>", "e.g. 10.00 or -5.00")
        .addOption(
          new Option("--kind <kind>", "topup (default for a positive amount) or correction").choices([
            "topup",
            "correction",
          ]),
        )
        .option("--reason <text>", "why, kept with the entry; a correction needs one"),
      "vps admin account credit ann@example.com 10.00",
      "vps admin account credit ann@example.com -2.50 --reason 'hours charged during the outage'",
    ).action(
      adminAction(
        async (
          admin,
          globals,
          ref: string,
          amount: string,
          options: { kind?: "topup" | "correction"; reason?: string },
        ) => {
          const { data } = await admin.POST("/api/v1/admin/accounts/{id}/credit/", {
            params: { path: { id: await accountId(admin, ref) } },
            body: { amount, kind: options.kind, reason: options.reason },
          });
          printOutput(data, globals, ACCOUNT_TABLE);
        },
      ),
    ),
  );
  for (const sub of accountAccessCommands()) command.addCommand(sub);
  return command;
}

function hosts(): Command {
  const command = new Command("host").alias("hosts").description("the hosts servers run on");
  command.addCommand(
    example(
      new Command("list")
        .description("list hosts")
        .option("--location <code>", "only hosts of this location")
        .option("--state <state>", "enabled, disabled, draining or down"),
      "vps admin host list --location us-west",
    ).action(
      adminAction(async (admin, globals, options: { location?: string; state?: string }) => {
        const query = { location: options.location, state: options.state } as Parameters<
          typeof admin.pages<"/api/v1/admin/hosts/">
        >[1];
        printOutput(await collect(admin.pages("/api/v1/admin/hosts/", query)), globals, HOST_TABLE);
      }),
    ),
  );
  command.addCommand(
    example(
      new Command("create")
        .description("register a host; prints the join token its agent starts with")
        .argument("<name>", "the host's name")
        .requiredOption("--location <code>", "its location's code")
        .option("--join-token-ttl <seconds>", "how long the join token lasts"),
      "vps admin host create hv1.fra.example.net --location fra",
    ).action(
      adminAction(
        async (admin, globals, name: string, options: { location: string; joinTokenTtl?: string }) => {
          const ttl =
            options.joinTokenTtl === undefined
              ? undefined
              : integer(options.joinTokenTtl, "--join-token-ttl");
          const { data } = await admin.POST("/api/v1/admin/hosts/", {
            body: { name, location: options.location, join_token_ttl_seconds: ttl },
          });
          printOutput(data, globals, {
            columns: ["host.id", "host.name", "join_token", "join_token_expires_at"],
          });
        },
      ),
    ),
  );
  command.addCommand(
    example(
      new Command("describe")
        .description("show a host and its inventory")
        .argument("<host>", "its name or id"),
      "vps admin host describe hv1.fra.example.net -o yaml",
    ).action(
      adminAction(async (admin, globals, ref: string) => {
        const { data } = await admin.GET("/api/v1/admin/hosts/{id}/", {
          params: { path: { id: await hostId(admin, ref) } },
        });
        printOutput(data, globals, HOST_TABLE);
      }),
    ),
  );
  command.addCommand(
    example(
      new Command("update")
        .description("set what is held back from placement and how far a resource is overcommitted")
        .argument("<host>", "its name or id")
        .option("--reserved-vcpus <n>")
        .option("--reserved-memory-mb <n>")
        .option("--reserved-disk-gb <n>")
        .option("--ratio-vcpus <x>")
        .option("--ratio-memory-mb <x>")
        .option("--ratio-disk-gb <x>"),
      "vps admin host update hv1 --reserved-memory-mb 2048 --ratio-vcpus 4",
    ).action(
      adminAction(async (admin, globals, ref: string, options: Record<string, string | undefined>) => {
        const pick = (prefix: "reserved" | "ratio") => {
          const entries = (["vcpus", "memory_mb", "disk_gb"] as const).flatMap((unit) => {
            const key = `${prefix}${unit.replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase())}`;
            const value = options[key];
            return value === undefined ? [] : [[unit, Number(value)] as const];
          });
          return entries.length ? Object.fromEntries(entries) : undefined;
        };
        const { data } = await admin.PATCH("/api/v1/admin/hosts/{id}/", {
          params: { path: { id: await hostId(admin, ref) } },
          body: { reserved: pick("reserved"), allocation_ratios: pick("ratio") },
        });
        printOutput(data, globals, HOST_TABLE);
      }),
    ),
  );
  for (const [name, description] of [
    ["enable", "let placement put servers on a host"],
    ["disable", "keep new servers off a host"],
    ["drain", "keep new servers off a host and move its servers away"],
  ] as const) {
    command.addCommand(
      example(
        new Command(name).description(description).argument("<host>", "its name or id"),
        `vps admin host ${name} hv1.fra.example.net`,
      ).action(
        adminAction(async (admin, globals, ref: string) => {
          const params = { params: { path: { id: await hostId(admin, ref) } } };
          const { data } =
            name === "enable"
              ? await admin.POST("/api/v1/admin/hosts/{id}/enable/", params)
              : name === "disable"
                ? await admin.POST("/api/v1/admin/hosts/{id}/disable/", params)
                : await admin.POST("/api/v1/admin/hosts/{id}/drain/", params);
          printOutput(data, globals, HOST_TABLE);
        }),
      ),
    );
  }
  command.addCommand(
    example(
      new Command("delete")
        .description("remove a host that has no servers")
        .argument("<host>", "its name or id"),
      "vps admin host delete hv1.fra.example.net",
    ).action(
      adminAction(async (admin, _globals, ref: string) => {
        await admin.DELETE("/api/v1/admin/hosts/{id}/", {
          params: { path: { id: await hostId(admin, ref) } },
        });
        process.stderr.write(`host ${ref} deleted\n`);
      }),
    ),
  );
  command.addCommand(
    example(
      new Command("join-token")
        .description("issue a new join token for a host's agent")
        .argument("<host>", "its name or id"),
      "vps admin host join-token hv1.fra.example.net -o json",
    ).action(
      adminAction(async (admin, globals, ref: string) => {
        const { data } = await admin.POST("/api/v1/admin/hosts/{id}/join-token/", {
          params: { path: { id: await hostId(admin, ref) } },
          body: null,
        });
        printOutput(data, globals, { columns: ["join_token", "join_token_expires_at"] });
      }),
    ),
  );
  command.addCommand(hostCredentialsCommand());
  return command;
}

function catalogue(): Command[] {
  const plan = new Command("plan")
    .alias("plans")
    .description("plans customers choose from (vps plan list lists them)");
  plan.addCommand(
    example(
      new Command("create")
        .description("add a plan")
        .requiredOption("--name <name>")
        .requiredOption("--vcpus <n>")
        .requiredOption("--memory <mib>")
        .requiredOption("--storage <gb>")
        .requiredOption("--bandwidth <gb>", "GB a month")
        .requiredOption("--price-hourly <amount>")
        .requiredOption("--price-monthly <amount>")
        .requiredOption("--locations <codes>", "comma-separated location codes"),
      "vps admin plan create --name small --vcpus 1 --memory 1024 --storage 25 --bandwidth 1000 \\\n    --price-hourly 0.01 --price-monthly 5.00 --locations us-west,fra",
    ).action(
      adminAction(async (admin, globals, o: Record<string, string>) => {
        const { data } = await admin.POST("/api/v1/admin/plans/", {
          body: {
            name: o.name ?? "",
            vcpus: integer(o.vcpus ?? "", "--vcpus"),
            memory: integer(o.memory ?? "", "--memory"),
            storage: integer(o.storage ?? "", "--storage"),
            bandwidth: integer(o.bandwidth ?? "", "--bandwidth"),
            price_hourly: o.priceHourly ?? "",
            price_monthly: o.priceMonthly ?? "",
            locations: (o.locations ?? "").split(",").filter(Boolean),
          },
        });
        printOutput(data, globals, PLAN_TABLE);
      }),
    ),
  );
  const os = new Command("os").description(
    "operating systems customers choose from (vps os list lists them)",
  );
  os.addCommand(
    example(
      new Command("create")
        .description("add an operating system")
        .requiredOption("--name <name>")
        .requiredOption("--distribution <name>")
        .requiredOption("--version <version>")
        .requiredOption("--image <file>", "the base image's file name in the driver's image directory"),
      "vps admin os create --name 'Debian 12' --distribution debian --version 12 --image debian-12.qcow2",
    ).action(
      adminAction(
        async (admin, globals, o: { name: string; distribution: string; version: string; image: string }) => {
          const { data } = await admin.POST("/api/v1/admin/os/", { body: o });
          printOutput(data, globals, OS_TABLE);
        },
      ),
    ),
  );
  const location = new Command("location")
    .alias("locations")
    .description("locations servers can be in (vps location list lists them)");
  location.addCommand(
    example(
      new Command("create")
        .description("add a location")
        .argument("<code>", "its short code, e.g. fra")
        .requiredOption("--name <name>")
        .requiredOption("--country <cc>", "ISO 3166-1 alpha-2"),
      "vps admin location create fra --name Frankfurt --country DE",
    ).action(
      adminAction(async (admin, globals, code: string, o: { name: string; country: string }) => {
        const { data } = await admin.POST("/api/v1/admin/locations/", { body: { code, ...o } });
        printOutput(data, globals, LOCATION_TABLE);
      }),
    ),
  );
  const pool = new Command("pool")
    .alias("pools")
    .description("the addresses a location hands out to servers");
  pool.addCommand(
    example(
      new Command("add")
        .description("add a block of IPv4 or IPv6 addresses to a location's pool")
        .argument("<location>", "the location's code")
        .argument("<cidr>", "e.g. 203.0.113.0/24"),
      "vps admin pool add fra 203.0.113.0/24",
    ).action(
      adminAction(async (admin, globals, code: string, cidr: string) => {
        const { data } = await admin.POST("/api/v1/admin/locations/{code}/addresses/", {
          params: { path: { code } },
          body: { cidr },
        });
        printOutput(data, globals, { columns: ["family", "added"] });
      }),
    ),
  );
  return [plan, os, location, pool];
}

export function adminCommand(): Command {
  const command = new Command("admin").description(
    "the operator's API, with the admin token (the context's admin_token or VPS_ADMIN_TOKEN)",
  );
  for (const sub of [accounts(), hosts(), ...migrationCommands(), ...catalogue(), revenueCommand()])
    command.addCommand(sub);
  return command;
}
