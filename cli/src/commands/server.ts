import { spawn } from "node:child_process";
import type { VpsClient } from "@vps/sdk";
import { Command } from "commander";
import { finishAction, type WaitFlags, withWaitOptions } from "../action-wait.ts";
import { CliError } from "../cli-error.ts";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { collect, printOutput } from "../output.ts";
import { imageId, osId, planId, serverId, sshKeyId } from "../resolve-name.ts";
import { customerClient } from "../session.ts";
import { ACTION_TABLE } from "./action.ts";
import { IMAGE_TABLE } from "./image.ts";

export const SERVER_TABLE = {
  columns: ["id", "name", "status", "ip_address", "location", "plan.name", "os.name"],
};

const server = (vps: VpsClient, id: number) =>
  vps.GET("/api/v1/servers/{server_id}/", { params: { path: { server_id: id } } }).then((r) => r.data);

/** A command on one server (by name or id) that starts an action, waited for unless --no-wait. */
function actionCommand(
  name: string,
  description: string,
  run: (vps: VpsClient, id: number, options: Record<string, string | boolean>) => Promise<number>,
  exampleLine: string,
): Command {
  const command = new Command(name).description(description).argument("<server>", "the server's name or id");
  withWaitOptions(command);
  example(command, exampleLine);
  return command.action(
    async (ref: string, options: WaitFlags & Record<string, string | boolean>, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const id = await serverId(vps, ref);
      const actionId = await run(vps, id, options);
      await finishAction(vps, actionId, `${name} ${ref}`, options, async (action) =>
        printOutput(action, globals, ACTION_TABLE),
      );
    },
  );
}

const power = (path: "start" | "stop" | "reboot") => async (vps: VpsClient, id: number) => {
  const params = { params: { path: { server_id: id } } };
  const { data } =
    path === "start"
      ? await vps.POST("/api/v1/servers/{server_id}/start/", params)
      : path === "stop"
        ? await vps.POST("/api/v1/servers/{server_id}/stop/", params)
        : await vps.POST("/api/v1/servers/{server_id}/reboot/", params);
  return data?.action_id ?? 0;
};

export function serverCommand(): Command {
  const command = new Command("server").description("create, inspect, power and remove servers");

  command.addCommand(
    example(
      new Command("list")
        .description("list the account's servers")
        .option("--status <status>", "only servers with this status")
        .option("--location <code>", "only servers in this location"),
      "vps server list",
      "vps server list --status active -o json",
    ).action(async (options: { status?: string; location?: string }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const query = { status: options.status, location: options.location } as Parameters<
        typeof vps.pages<"/api/v1/servers/">
      >[1];
      printOutput(await collect(vps.pages("/api/v1/servers/", query)), globals, SERVER_TABLE);
    }),
  );

  command.addCommand(
    example(
      withWaitOptions(
        new Command("create")
          .description("create a server and wait until it is active")
          .requiredOption("--name <name>", "the server's name")
          .requiredOption("--plan <plan>", "a plan's name or id (vps plan list)")
          .requiredOption("--os <os>", "an operating system's name or id (vps os list)")
          .requiredOption("--location <code>", "a location's code (vps location list)")
          .option("--hostname <fqdn>", "its fully qualified host name")
          .option("--ssh-key <key>", "an SSH key's name or id to install for root")
          .option(
            "--image <image>",
            "make it from this snapshot or backup (name or id) instead of a fresh OS",
          )
          .option("--backups", "enable daily backups", false),
      ),
      "vps server create --name web-1 --plan 1 --os 5 --location us-west --ssh-key laptop",
    ).action(
      async (
        options: WaitFlags & {
          name: string;
          plan: string;
          os: string;
          location: string;
          hostname?: string;
          sshKey?: string;
          image?: string;
          backups: boolean;
        },
        cmd: Command,
      ) => {
        const globals = globalOptions(cmd);
        const vps = customerClient(globals);
        const { data: created } = await vps.POST("/api/v1/servers/", {
          body: {
            name: options.name,
            plan_id: await planId(vps, options.plan),
            os_id: await osId(vps, options.os),
            location: options.location,
            hostname: options.hostname,
            ssh_key_id: options.sshKey === undefined ? undefined : await sshKeyId(vps, options.sshKey),
            image_id: options.image === undefined ? undefined : await imageId(vps, options.image),
            backups_enabled: options.backups,
          },
        });
        if (!created) throw new CliError("the create answered no server", "empty_answer");
        await finishAction(vps, created.action_id, `creating ${options.name}`, options, async () =>
          printOutput(await server(vps, created.id), globals, SERVER_TABLE),
        );
      },
    ),
  );

  command.addCommand(
    example(
      new Command("describe")
        .description("show one server in full")
        .argument("<server>", "the server's name or id"),
      "vps server describe web-1 -o yaml",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      printOutput(await server(vps, await serverId(vps, ref)), globals, {
        columns: [
          ...SERVER_TABLE.columns,
          "ipv6_address",
          "hostname",
          "backups_enabled",
          "ssh.host",
          "ssh.port",
        ],
      });
    }),
  );

  command.addCommand(
    example(
      new Command("update")
        .description("rename a server, change its host name or turn backups on or off")
        .argument("<server>", "the server's name or id")
        .option("--name <name>", "a new name")
        .option("--hostname <fqdn>", "a new host name")
        .option("--backups", "enable backups")
        .option("--no-backups", "disable backups"),
      "vps server update web-1 --name web-2 --no-backups",
    ).action(
      async (ref: string, options: { name?: string; hostname?: string; backups?: boolean }, cmd: Command) => {
        const globals = globalOptions(cmd);
        const vps = customerClient(globals);
        const body = { name: options.name, hostname: options.hostname, backups_enabled: options.backups };
        if (Object.values(body).every((v) => v === undefined))
          throw new CliError(
            "nothing to change: give --name, --hostname, --backups or --no-backups",
            "invalid_input",
            2,
          );
        const { data } = await vps.PATCH("/api/v1/servers/{server_id}/", {
          params: { path: { server_id: await serverId(vps, ref) } },
          body,
        });
        printOutput(data, globals, SERVER_TABLE);
      },
    ),
  );

  command.addCommand(
    example(
      new Command("delete")
        .description("delete a server and its disk")
        .argument("<server>", "the server's name or id"),
      "vps server delete web-1",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const vps = customerClient(globalOptions(cmd));
      const id = await serverId(vps, ref);
      await vps.DELETE("/api/v1/servers/{server_id}/", { params: { path: { server_id: id } } });
      process.stderr.write(`server ${ref} deleted\n`);
    }),
  );

  command.addCommand(
    actionCommand("start", "start a stopped server", power("start"), "vps server start web-1"),
  );
  command.addCommand(
    actionCommand("stop", "stop a running server", power("stop"), "vps server stop web-1 --no-wait"),
  );
  command.addCommand(
    actionCommand("reboot", "reboot a running server", power("reboot"), "vps server reboot web-1"),
  );
  command.addCommand(
    actionCommand(
      "backup",
      "take a backup of a server now",
      async (vps, id) =>
        (await vps.POST("/api/v1/servers/{server_id}/backup/", { params: { path: { server_id: id } } })).data
          ?.action_id ?? 0,
      "vps server backup web-1",
    ),
  );
  command.addCommand(
    actionCommand(
      "resize",
      "move a server to a bigger plan",
      async (vps, id, options) =>
        (
          await vps.POST("/api/v1/servers/{server_id}/resize/", {
            params: { path: { server_id: id } },
            body: { plan_id: await planId(vps, String(options.plan)) },
          })
        ).data?.action_id ?? 0,
      "vps server resize web-1 --plan 2",
    ).requiredOption("--plan <plan>", "the new plan's name or id"),
  );
  command.addCommand(
    actionCommand(
      "rebuild",
      "reinstall a server from a fresh OS or one of the account's images (its disk is replaced)",
      async (vps, id, options) => {
        if ((options.os === undefined) === (options.image === undefined))
          throw new CliError("give exactly one of --os and --image", "invalid_input", 2);
        const body =
          options.os !== undefined
            ? { os_id: await osId(vps, String(options.os)) }
            : { image_id: await imageId(vps, String(options.image)) };
        return (
          (
            await vps.POST("/api/v1/servers/{server_id}/rebuild/", {
              params: { path: { server_id: id } },
              body,
            })
          ).data?.action_id ?? 0
        );
      },
      "vps server rebuild web-1 --os 5",
    )
      .option("--os <os>", "a fresh operating system's name or id")
      .option("--image <image>", "an image's name or id"),
  );

  const snapshot = new Command("snapshot")
    .description("take a snapshot image of a server (create_image)")
    .argument("<server>", "the server's name or id")
    .option("--name <name>", "the image's name");
  withWaitOptions(snapshot);
  command.addCommand(
    example(snapshot, "vps server snapshot web-1 --name before-upgrade").action(
      async (ref: string, options: WaitFlags & { name?: string }, cmd: Command) => {
        const globals = globalOptions(cmd);
        const vps = customerClient(globals);
        const { data } = await vps.POST("/api/v1/servers/{server_id}/create_image/", {
          params: { path: { server_id: await serverId(vps, ref) } },
          body: { name: options.name },
        });
        if (!data) throw new CliError("the snapshot answered nothing", "empty_answer");
        await finishAction(vps, data.action_id, `snapshot of ${ref}`, options, async () => {
          const { data: image } = await vps.GET("/api/v1/images/{image_id}/", {
            params: { path: { image_id: data.image.id } },
          });
          printOutput(image, globals, IMAGE_TABLE);
        });
      },
    ),
  );

  command.addCommand(
    example(
      new Command("ssh")
        .description("run ssh to the server's SSH endpoint as root (arguments after -- go to ssh)")
        .argument("<server>", "the server's name or id")
        .argument("[ssh-args...]", "more arguments for ssh")
        .option("-l, --user <user>", "the user to log in as", "root"),
      "vps server ssh web-1",
      "vps server ssh web-1 -- -i ~/.ssh/id_ed25519 uptime",
    ).action(async (ref: string, sshArgs: string[], options: { user: string }, cmd: Command) => {
      const vps = customerClient(globalOptions(cmd));
      const found = await server(vps, await serverId(vps, ref));
      if (!found?.ssh)
        throw new CliError(
          `server ${ref} has no SSH endpoint yet (it is ${found?.status})`,
          "no_ssh_endpoint",
        );
      const args = ["-p", String(found.ssh.port), `${options.user}@${found.ssh.host}`, ...sshArgs];
      const child = spawn("ssh", args, { stdio: "inherit" });
      const code = await new Promise<number>((resolve, reject) => {
        child.on("error", (error) => reject(new CliError(`cannot run ssh: ${error.message}`, "ssh_failed")));
        child.on("exit", (status, signal) => resolve(status ?? (signal ? 128 : 1)));
      });
      process.exitCode = code;
    }),
  );

  return command;
}
