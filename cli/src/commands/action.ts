import { Command } from "commander";
import { awaitAction, type WaitFlags } from "../action-wait.ts";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { collect, printOutput } from "../output.ts";
import { serverId } from "../resolve-name.ts";
import { customerClient } from "../session.ts";

export const ACTION_TABLE = {
  columns: ["id", "command", "status", "progress", "server_id", "started_at", "finished_at"],
};

export function actionCommand(): Command {
  const command = new Command("action").description("follow what servers are doing");

  command.addCommand(
    example(
      new Command("list")
        .description("list a server's actions, newest first")
        .argument("<server>", "the server's name or id"),
      "vps action list web-1",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const id = await serverId(vps, ref);
      const actions = await collect(vps.pages("/api/v1/servers/{server_id}/actions/", {}, { server_id: id }));
      printOutput(actions, globals, ACTION_TABLE);
    }),
  );

  command.addCommand(
    example(
      new Command("describe").description("show one action").argument("<id>", "the action's id"),
      "vps action describe 42 -o json",
    ).action(async (id: string, _options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const { data } = await vps.GET("/api/v1/actions/{action_id}/", {
        params: { path: { action_id: Number(id) } },
      });
      printOutput(data, globals, ACTION_TABLE);
    }),
  );

  command.addCommand(
    example(
      new Command("wait")
        .description("wait for an action to end; fails when it ended in error")
        .argument("<id>", "the action's id")
        .option("--timeout <seconds>", "how long to wait", "600"),
      "vps action wait $(vps server stop web-1 --no-wait)",
    ).action(async (id: string, options: Omit<WaitFlags, "wait">, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const action = await awaitAction(vps, Number(id), `action ${id}`, { ...options, wait: true });
      printOutput(action, globals, ACTION_TABLE);
    }),
  );

  return command;
}
