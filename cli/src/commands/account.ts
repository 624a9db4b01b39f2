import { Command } from "commander";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { printOutput } from "../output.ts";
import { customerClient } from "../session.ts";
import { billingCommands } from "./account-billing.ts";

const TOKEN_TABLE = { columns: ["id", "name", "created_at", "revoked_at"] };

export function accountCommand(): Command {
  const command = new Command("account").description(
    "the account: balance, API tokens, transactions, usage and statements",
  );

  command.addCommand(
    example(
      new Command("describe").description("show the account and its balance"),
      "vps account describe",
    ).action(async (_options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const { data } = await vps.GET("/api/v1/account/");
      printOutput(data, globals, { columns: ["id", "email", "balance", "currency", "created_at"] });
    }),
  );

  const tokens = new Command("token").description("the account's API tokens");
  tokens.addCommand(
    example(
      new Command("list").description("list API tokens (never their secrets)"),
      "vps account token list",
    ).action(async (_options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      printOutput((await vps.GET("/api/v1/account/tokens/")).data?.results, globals, TOKEN_TABLE);
    }),
  );
  tokens.addCommand(
    example(
      new Command("create")
        .description("make a new API token; its secret is shown once")
        .requiredOption("--name <name>", "what it is for"),
      "vps account token create --name 'ci deploys' -o json",
    ).action(async (options: { name: string }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const { data } = await vps.POST("/api/v1/account/tokens/", { body: { name: options.name } });
      printOutput(data, globals, { columns: ["id", "name", "api_token"] });
    }),
  );
  tokens.addCommand(
    example(
      new Command("delete").description("revoke an API token").argument("<id>", "the token's id"),
      "vps account token delete 3",
    ).action(async (id: string, _options: unknown, cmd: Command) => {
      const vps = customerClient(globalOptions(cmd));
      await vps.DELETE("/api/v1/account/tokens/{id}/", { params: { path: { id: Number(id) } } });
      process.stderr.write(`token ${id} revoked\n`);
    }),
  );
  command.addCommand(tokens);
  for (const billing of billingCommands()) command.addCommand(billing);
  return command;
}
