import { Command } from "commander";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { collect, printOutput } from "../output.ts";
import { imageId, serverId } from "../resolve-name.ts";
import { customerClient } from "../session.ts";

export const IMAGE_TABLE = {
  columns: ["id", "name", "type", "status", "server_id", "os_id", "disk_gb", "created_at"],
};

export function imageCommand(): Command {
  const command = new Command("image").description("the account's snapshots and backups");

  command.addCommand(
    example(
      new Command("list")
        .description("list images")
        .option("--type <type>", "snapshot or backup")
        .option("--server <server>", "only images of this server (name or id)"),
      "vps image list --type backup",
    ).action(async (options: { type?: "snapshot" | "backup"; server?: string }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const server_id = options.server === undefined ? undefined : await serverId(vps, options.server);
      printOutput(
        await collect(vps.pages("/api/v1/images/", { type: options.type, server_id })),
        globals,
        IMAGE_TABLE,
      );
    }),
  );

  command.addCommand(
    example(
      new Command("describe").description("show one image").argument("<image>", "the image's name or id"),
      "vps image describe before-upgrade",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const { data } = await vps.GET("/api/v1/images/{image_id}/", {
        params: { path: { image_id: await imageId(vps, ref) } },
      });
      printOutput(data, globals, IMAGE_TABLE);
    }),
  );

  command.addCommand(
    example(
      new Command("delete").description("delete an image").argument("<image>", "the image's name or id"),
      "vps image delete before-upgrade",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const vps = customerClient(globalOptions(cmd));
      await vps.DELETE("/api/v1/images/{image_id}/", {
        params: { path: { image_id: await imageId(vps, ref) } },
      });
      process.stderr.write(`image ${ref} deleted\n`);
    }),
  );

  return command;
}
