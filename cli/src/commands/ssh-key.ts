import { readFileSync } from "node:fs";
import { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { printOutput } from "../output.ts";
import { sshKeyId } from "../resolve-name.ts";
import { customerClient } from "../session.ts";

const SSH_KEY_TABLE = { columns: ["id", "name", "type", "bits", "fingerprint", "created_at"] };

export function sshKeyCommand(): Command {
  const command = new Command("ssh-key").description("SSH public keys installed on new servers");

  command.addCommand(
    example(new Command("list").description("list SSH keys"), "vps ssh-key list").action(
      async (_options: unknown, cmd: Command) => {
        const globals = globalOptions(cmd);
        const vps = customerClient(globals);
        printOutput((await vps.GET("/api/v1/ssh-keys/")).data?.results, globals, SSH_KEY_TABLE);
      },
    ),
  );

  command.addCommand(
    example(
      new Command("create")
        .description("add an SSH public key")
        .requiredOption("--name <name>", "the key's name")
        .option("--public-key <key>", "the OpenSSH public key itself")
        .option("--public-key-from-file <path>", "read the public key from this file"),
      "vps ssh-key create --name laptop --public-key-from-file ~/.ssh/id_ed25519.pub",
    ).action(
      async (options: { name: string; publicKey?: string; publicKeyFromFile?: string }, cmd: Command) => {
        if ((options.publicKey === undefined) === (options.publicKeyFromFile === undefined))
          throw new CliError(
            "give exactly one of --public-key and --public-key-from-file",
            "invalid_input",
            2,
          );
        const publicKey = options.publicKey ?? readFileSync(options.publicKeyFromFile ?? "", "utf8").trim();
        const globals = globalOptions(cmd);
        const vps = customerClient(globals);
        const { data } = await vps.POST("/api/v1/ssh-keys/", {
          body: { name: options.name, public_key: publicKey },
        });
        printOutput(data, globals, SSH_KEY_TABLE);
      },
    ),
  );

  command.addCommand(
    example(
      new Command("describe").description("show one SSH key").argument("<key>", "the key's name or id"),
      "vps ssh-key describe laptop",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const vps = customerClient(globals);
      const { data } = await vps.GET("/api/v1/ssh-keys/{id}/", {
        params: { path: { id: await sshKeyId(vps, ref) } },
      });
      printOutput(data, globals, { columns: [...SSH_KEY_TABLE.columns, "public_key"] });
    }),
  );

  command.addCommand(
    example(
      new Command("delete").description("delete an SSH key").argument("<key>", "the key's name or id"),
      "vps ssh-key delete laptop",
    ).action(async (ref: string, _options: unknown, cmd: Command) => {
      const vps = customerClient(globalOptions(cmd));
      await vps.DELETE("/api/v1/ssh-keys/{id}/", { params: { path: { id: await sshKeyId(vps, ref) } } });
      process.stderr.write(`SSH key ${ref} deleted\n`);
    }),
  );

  return command;
}
