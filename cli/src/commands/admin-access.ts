import { Command } from "commander";
import { example } from "../help-example.ts";
import { printOutput } from "../output.ts";
import { accountId, hostId } from "../resolve-name.ts";
import { adminAction, integer } from "./admin-action.ts";

export const ACCOUNT_TABLE = { columns: ["id", "email", "balance", "currency", "operator", "created_at"] };
const MIGRATION_TABLE = {
  columns: ["id", "server_id", "source_host_id", "target_host_id", "state", "error.code", "finished_at"],
};

/** Who may use an account: the operator role, an invitation to set its password, its API tokens. */
export function accountAccessCommands(): Command[] {
  const operator = new Command("operator").description("the web console's operator pages for an account");
  operator.addCommand(
    example(
      new Command("grant")
        .description("make an account an operator (it sees /admin in the web console)")
        .argument("<account>", "its email or id"),
      "vps admin account operator grant ann@example.com",
    ).action(
      adminAction(async (admin, globals, ref: string) => {
        const { data } = await admin.POST("/api/v1/admin/accounts/{id}/operator/", {
          params: { path: { id: await accountId(admin, ref) } },
        });
        printOutput(data, globals, ACCOUNT_TABLE);
      }),
    ),
  );
  operator.addCommand(
    example(
      new Command("revoke")
        .description("make an operator a customer again")
        .argument("<account>", "its email or id"),
      "vps admin account operator revoke ann@example.com",
    ).action(
      adminAction(async (admin, _globals, ref: string) => {
        await admin.DELETE("/api/v1/admin/accounts/{id}/operator/", {
          params: { path: { id: await accountId(admin, ref) } },
        });
        process.stderr.write(`${ref} is no longer an operator\n`);
      }),
    ),
  );
  const invite = example(
    new Command("invite")
      .description("make a link that sets the account's password in the web console, once")
      .argument("<account>", "its email or id"),
    "vps admin account invite ann@example.com",
  ).action(
    adminAction(async (admin, globals, ref: string) => {
      const { data } = await admin.POST("/api/v1/admin/accounts/{id}/invitation/", {
        params: { path: { id: await accountId(admin, ref) } },
      });
      printOutput(data, globals, { columns: ["url", "expires_at"] });
    }),
  );
  const token = new Command("token").alias("tokens").description("an account's API tokens");
  token.addCommand(
    example(
      new Command("create")
        .description("issue another API token for an account; shown once")
        .argument("<account>", "its email or id")
        .option("--name <name>", "what the token is for", "api"),
      "vps admin account token create ann@example.com --name ci",
    ).action(
      adminAction(async (admin, globals, ref: string, options: { name: string }) => {
        const { data } = await admin.POST("/api/v1/admin/accounts/{id}/tokens/", {
          params: { path: { id: await accountId(admin, ref) } },
          body: { name: options.name },
        });
        printOutput(data, globals, { columns: ["id", "name", "api_token"] });
      }),
    ),
  );
  token.addCommand(
    example(
      new Command("delete")
        .description("revoke one of an account's API tokens")
        .argument("<account>", "its email or id")
        .argument("<token-id>", "the token's id"),
      "vps admin account token delete ann@example.com 12",
    ).action(
      adminAction(async (admin, _globals, ref: string, tokenId: string) => {
        await admin.DELETE("/api/v1/admin/accounts/{id}/tokens/{token_id}/", {
          params: { path: { id: await accountId(admin, ref), token_id: integer(tokenId, "<token-id>") } },
        });
        process.stderr.write(`token ${tokenId} revoked\n`);
      }),
    ),
  );
  return [operator, invite, token];
}

/** `admin host revoke-credentials`: the host's agent is refused until it joins again. */
export function hostCredentialsCommand(): Command {
  return example(
    new Command("revoke-credentials")
      .description("refuse a host's agent until it joins again with a new join token")
      .argument("<host>", "its name or id"),
    "vps admin host revoke-credentials hv1.fra.example.net",
  ).action(
    adminAction(async (admin, globals, ref: string) => {
      const { data } = await admin.POST("/api/v1/admin/hosts/{id}/credentials/revoke/", {
        params: { path: { id: await hostId(admin, ref) } },
      });
      printOutput(data, globals, { columns: ["revoked"] });
    }),
  );
}

/** `admin server migrate` and `admin migration describe`: moving a server to another host. */
export function migrationCommands(): Command[] {
  const server = new Command("server").alias("servers").description("any account's servers");
  server.addCommand(
    example(
      new Command("migrate")
        .description("move a server to another host (cold: stopped, copied, started again if it ran)")
        .argument("<server-id>", "the server's id")
        .option("--to <host>", "the target host's name or id (placement chooses when absent)"),
      "vps admin server migrate 12345 --to hv2.fra.example.net",
    ).action(
      adminAction(async (admin, globals, id: string, options: { to?: string }) => {
        const target = options.to === undefined ? undefined : await hostId(admin, options.to);
        const { data } = await admin.POST("/api/v1/admin/servers/{id}/migrate/", {
          params: { path: { id: integer(id, "<server-id>") } },
          body: target === undefined ? null : { target_host_id: target },
        });
        printOutput(data, globals, MIGRATION_TABLE);
      }),
    ),
  );
  const migration = new Command("migration").alias("migrations").description("servers' moves between hosts");
  migration.addCommand(
    example(
      new Command("describe")
        .description("show a migration and how it ended")
        .argument("<id>", "the migration's id"),
      "vps admin migration describe 7 -o yaml",
    ).action(
      adminAction(async (admin, globals, id: string) => {
        const { data } = await admin.GET("/api/v1/admin/migrations/{id}/", {
          params: { path: { id: integer(id, "<id>") } },
        });
        printOutput(data, globals, MIGRATION_TABLE);
      }),
    ),
  );
  return [server, migration];
}
