import { Command, Option } from "commander";
import { accountCommand } from "./commands/account.ts";
import { actionCommand } from "./commands/action.ts";
import { adminCommand } from "./commands/admin.ts";
import { catalogueCommands } from "./commands/catalogue.ts";
import { completionCommand } from "./commands/completion.ts";
import { contextCommand } from "./commands/context.ts";
import { imageCommand } from "./commands/image.ts";
import { serverCommand } from "./commands/server.ts";
import { sshKeyCommand } from "./commands/ssh-key.ts";
import { webhookCommand } from "./commands/webhook.ts";
import { example, exampleFromSubcommands } from "./help-example.ts";

/** The whole command tree; global options are read before or after a command. */
export function buildProgram(version: string): Command {
  const program = new Command("vps")
    .description("the VPS control plane from the command line")
    .version(version, "-V, --version")
    .option("--context <name>", "use this context instead of the active one")
    .addOption(
      new Option("-o, --output <format>", "how to print results")
        .choices(["table", "json", "yaml"])
        .default("table"),
    )
    .option(
      "--columns <names>",
      "the table's columns, comma-separated (fields of the JSON, e.g. id,name,plan.name)",
    )
    .showHelpAfterError()
    .exitOverride();
  example(
    program,
    "vps context create prod --url https://vps.example.com --token-stdin < token.txt",
    "vps server create --name web-1 --plan 1 --os 5 --location us-west",
    "vps server list -o json",
  );
  for (const command of [
    contextCommand(),
    serverCommand(),
    sshKeyCommand(),
    imageCommand(),
    actionCommand(),
    accountCommand(),
    webhookCommand(),
    ...catalogueCommands(),
    adminCommand(),
    completionCommand(program),
  ])
    program.addCommand(command);
  // Subcommands inherit the settings given before they were added: apply them to the whole tree.
  const apply = (command: Command) => {
    command.showHelpAfterError().exitOverride();
    for (const sub of command.commands) apply(sub);
  };
  apply(program);
  exampleFromSubcommands(program);
  return program;
}
