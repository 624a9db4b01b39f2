import type { VpsClient } from "@vps/sdk";
import { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { type GlobalOptions, globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { collect, formatOutput, printOutput } from "../output.ts";
import { firstPageOrAll } from "../page-option.ts";
import { webhookId } from "../resolve-name.ts";
import { customerClient } from "../session.ts";

const WEBHOOK_TABLE = { columns: ["id", "url", "events", "enabled", "disabled_reason"] };
const DELIVERY_TABLE = {
  columns: ["id", "event_type", "status", "last_status_code", "next_attempt_at", "created_at", "finished_at"],
};
const EVENTS = ["action.finished", "server.status_changed", "backup.finished", "balance.low"] as const;
type EventType = (typeof EVENTS)[number];

function events(value: string): EventType[] {
  const list = value
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = list.filter((e) => !(EVENTS as readonly string[]).includes(e));
  if (unknown.length || !list.length)
    throw new CliError(
      `--events takes event types from ${EVENTS.join(", ")}, comma-separated, not "${value}"`,
      "invalid_input",
      2,
    );
  return list as EventType[];
}

/** The endpoint as a table with its signing secret under it, the one time the API shows it. */
function printWithSecret(data: { secret: string } | undefined, globals: GlobalOptions): void {
  if (globals.output !== "table" || !data) {
    printOutput(data, globals, WEBHOOK_TABLE);
    return;
  }
  process.stdout.write(
    `${formatOutput(data, globals, WEBHOOK_TABLE)}\n\n` +
      "Signing secret (shown only now: keep it to verify webhook-signature):\n" +
      `${data.secret}\n`,
  );
}

/** A command on one endpoint (by id or URL) with the client and the global options. */
function onWebhook(
  run: (
    vps: VpsClient,
    id: number,
    globals: GlobalOptions,
    options: Record<string, unknown>,
  ) => Promise<void>,
) {
  return async (ref: string, options: Record<string, unknown>, cmd: Command) => {
    const globals = globalOptions(cmd);
    const vps = customerClient(globals);
    await run(vps, await webhookId(vps, ref), globals, options);
  };
}

const WEBHOOK_ARGUMENT = ["<webhook>", "the endpoint's id or URL"] as const;

export function webhookCommand(): Command {
  const command = new Command("webhook")
    .alias("webhooks")
    .description("endpoints told of the account's events (signed as Standard Webhooks)");

  command.addCommand(
    example(
      new Command("list").description("list the account's webhook endpoints"),
      "vps webhook list",
    ).action(async (_options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      printOutput(await collect(vps.pages("/api/v1/webhooks/")), globals, WEBHOOK_TABLE);
    }),
  );

  command.addCommand(
    example(
      new Command("create")
        .description("register an endpoint; its signing secret is shown once")
        .requiredOption("--url <url>", "where events are POSTed (http or https)")
        .requiredOption("--events <types>", `comma-separated: ${EVENTS.join(", ")}`)
        .option("--description <text>", "what it is for"),
      "vps webhook create --url https://example.com/hooks/vps --events action.finished,balance.low",
    ).action(async (options: { url: string; events: string; description?: string }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const { data } = await vps.POST("/api/v1/webhooks/", {
        body: { url: options.url, events: events(options.events), description: options.description },
      });
      printWithSecret(data, globals);
    }),
  );

  command.addCommand(
    example(
      new Command("describe").description("show one endpoint").argument(...WEBHOOK_ARGUMENT),
      "vps webhook describe 3 -o yaml",
    ).action(
      onWebhook(async (vps, id, globals) => {
        const { data } = await vps.GET("/api/v1/webhooks/{id}/", { params: { path: { id } } });
        printOutput(data, globals, {
          columns: [...WEBHOOK_TABLE.columns, "disabled_at", "description", "created_at", "updated_at"],
        });
      }),
    ),
  );

  command.addCommand(
    example(
      new Command("update")
        .description("change an endpoint's URL, events or description")
        .argument(...WEBHOOK_ARGUMENT)
        .option("--url <url>", "a new URL")
        .option("--events <types>", "the new event types, comma-separated")
        .option("--description <text>", "a new description (empty to remove it)"),
      "vps webhook update 3 --events action.finished,server.status_changed",
    ).action(
      onWebhook(async (vps, id, globals, options) => {
        const { url, description } = options as { url?: string; description?: string };
        const body = {
          url,
          events: options.events === undefined ? undefined : events(String(options.events)),
          description: description === undefined ? undefined : description || null,
        };
        if (Object.values(body).every((v) => v === undefined))
          throw new CliError("nothing to change: give --url, --events or --description", "invalid_input", 2);
        const { data } = await vps.PATCH("/api/v1/webhooks/{id}/", { params: { path: { id } }, body });
        printOutput(data, globals, WEBHOOK_TABLE);
      }),
    ),
  );

  for (const [name, enabled, description] of [
    ["enable", true, "enable an endpoint (one disabled after failures too): its waiting events are sent"],
    ["disable", false, "pause an endpoint: its events wait until it is enabled"],
  ] as const) {
    command.addCommand(
      example(
        new Command(name).description(description).argument(...WEBHOOK_ARGUMENT),
        `vps webhook ${name} 3`,
      ).action(
        onWebhook(async (vps, id, globals) => {
          const { data } = await vps.PATCH("/api/v1/webhooks/{id}/", {
            params: { path: { id } },
            body: { enabled },
          });
          printOutput(data, globals, WEBHOOK_TABLE);
        }),
      ),
    );
  }

  command.addCommand(
    example(
      new Command("delete")
        .description("delete an endpoint; its deliveries not yet sent are dropped")
        .argument(...WEBHOOK_ARGUMENT),
      "vps webhook delete 3",
    ).action(
      onWebhook(async (vps, id) => {
        await vps.DELETE("/api/v1/webhooks/{id}/", { params: { path: { id } } });
        process.stderr.write(`webhook ${id} deleted\n`);
      }),
    ),
  );

  command.addCommand(
    example(
      new Command("ping")
        .description("send the endpoint a ping event; `vps webhook deliveries` shows how it went")
        .argument(...WEBHOOK_ARGUMENT),
      "vps webhook ping 3",
    ).action(
      onWebhook(async (vps, id, globals) => {
        const { data } = await vps.POST("/api/v1/webhooks/{id}/ping/", { params: { path: { id } } });
        printOutput(data, globals, { columns: ["delivery_id"] });
      }),
    ),
  );

  command.addCommand(
    example(
      new Command("rotate-secret")
        .description("replace the endpoint's signing secret; the new one is shown once")
        .argument(...WEBHOOK_ARGUMENT),
      "vps webhook rotate-secret 3 -o json",
    ).action(
      onWebhook(async (vps, id, globals) => {
        const { data } = await vps.POST("/api/v1/webhooks/{id}/rotate_secret/", {
          params: { path: { id } },
        });
        printWithSecret(data, globals);
      }),
    ),
  );

  command.addCommand(
    example(
      new Command("deliveries")
        .description("the endpoint's deliveries, newest first, each with its attempts (-o yaml shows them)")
        .argument(...WEBHOOK_ARGUMENT)
        .option("--all", "every delivery, not just the newest 50"),
      "vps webhook deliveries 3",
      "vps webhook deliveries 3 -o yaml",
    ).action(
      onWebhook(async (vps, id, globals, options) => {
        const deliveries = await firstPageOrAll(
          options.all as boolean | undefined,
          () => vps.GET("/api/v1/webhooks/{id}/deliveries/", { params: { path: { id } } }),
          () => vps.pages("/api/v1/webhooks/{id}/deliveries/", {}, { id }),
        );
        printOutput(deliveries, globals, DELIVERY_TABLE);
      }),
    ),
  );

  return command;
}
