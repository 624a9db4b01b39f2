import { readFileSync } from "node:fs";
import { Command } from "commander";
import { CliError } from "../cli-error.ts";
import {
  type ConfigFile,
  type Context,
  configPath,
  readConfig,
  tokenPrefix,
  writeConfig,
} from "../config-file.ts";
import { globalOptions } from "../global-options.ts";
import { example } from "../help-example.ts";
import { printOutput } from "../output.ts";

const CONTEXT_TABLE = { columns: ["active", "name", "url", "token", "admin_token"] };

/** What is shown of a context: its tokens only as prefixes. */
function shown(name: string, context: Context, config: ConfigFile) {
  return {
    name,
    active: config.current_context === name ? "*" : "",
    url: context.url,
    token: tokenPrefix(context.token),
    admin_token: tokenPrefix(context.admin_token),
  };
}

function existing(config: ConfigFile, name: string | undefined): [string, Context] {
  if (name === undefined) throw new CliError("no active context: vps context use NAME", "no_context");
  const context = config.contexts[name];
  if (!context) throw new CliError(`no context "${name}"`, "not_found");
  return [name, context];
}

export function contextCommand(): Command {
  const command = new Command("context").description(
    "named services and their tokens, kept in $VPS_CONFIG or ~/.config/vps/config.toml (mode 0600)",
  );

  command.addCommand(
    example(
      new Command("create")
        .description("add a context and make it the active one")
        .argument("<name>", "a name for it")
        .requiredOption("--url <url>", "the service's root, e.g. https://vps.example.com")
        .option("--token <token>", "an API token (prefer --token-stdin: arguments are seen by other users)")
        .option("--token-stdin", "read the API token from standard input")
        .option("--admin-token <token>", "the operator's admin token, for vps admin")
        .option("--admin-token-stdin", "read the admin token from standard input"),
      "vps context create prod --url https://vps.example.com --token-stdin < token.txt",
    ).action(
      async (
        name: string,
        options: {
          url: string;
          token?: string;
          tokenStdin?: boolean;
          adminToken?: string;
          adminTokenStdin?: boolean;
        },
      ) => {
        if (options.tokenStdin && options.adminTokenStdin)
          throw new CliError("only one token can come from standard input", "invalid_input", 2);
        const stdin =
          options.tokenStdin || options.adminTokenStdin ? readFileSync(0, "utf8").trim() : undefined;
        const token = options.tokenStdin ? stdin : options.token;
        const adminToken = options.adminTokenStdin ? stdin : options.adminToken;
        if (!token && !adminToken)
          throw new CliError("give a token: --token-stdin, --token, or an admin token", "invalid_input", 2);
        try {
          new URL(options.url);
        } catch {
          throw new CliError(`--url "${options.url}" is not a URL`, "invalid_input", 2);
        }
        const path = configPath();
        const config = readConfig(path);
        if (config.contexts[name]) throw new CliError(`context "${name}" already exists`, "context_exists");
        const context: Context = { url: options.url };
        if (token) context.token = token;
        if (adminToken) context.admin_token = adminToken;
        writeConfig(path, { current_context: name, contexts: { ...config.contexts, [name]: context } });
        process.stderr.write(`context ${name} created and active\n`);
      },
    ),
  );

  command.addCommand(
    example(
      new Command("list").description("list contexts (tokens only as prefixes)"),
      "vps context list",
    ).action((_options: unknown, cmd: Command) => {
      const config = readConfig(configPath());
      const rows = Object.entries(config.contexts).map(([name, context]) => shown(name, context, config));
      printOutput(rows, globalOptions(cmd), CONTEXT_TABLE);
    }),
  );

  command.addCommand(
    example(
      new Command("use").description("make a context the active one").argument("<name>", "the context"),
      "vps context use staging",
    ).action((name: string) => {
      const path = configPath();
      const config = readConfig(path);
      existing(config, name);
      writeConfig(path, { ...config, current_context: name });
      process.stderr.write(`context ${name} is active\n`);
    }),
  );

  command.addCommand(
    example(
      new Command("show")
        .description("show a context, the active one by default")
        .argument("[name]", "the context"),
      "vps context show",
    ).action((name: string | undefined, _options: unknown, cmd: Command) => {
      const config = readConfig(configPath());
      const [found, context] = existing(config, name ?? config.current_context);
      printOutput(shown(found, context, config), globalOptions(cmd), CONTEXT_TABLE);
    }),
  );

  command.addCommand(
    example(
      new Command("delete")
        .description("remove a context and its tokens from the file")
        .argument("<name>", "the context"),
      "vps context delete staging",
    ).action((name: string) => {
      const path = configPath();
      const config = readConfig(path);
      existing(config, name);
      const { [name]: _removed, ...contexts } = config.contexts;
      const current = config.current_context === name ? undefined : config.current_context;
      writeConfig(path, { current_context: current, contexts });
      process.stderr.write(`context ${name} deleted\n`);
    }),
  );

  return command;
}
