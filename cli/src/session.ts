import { createClient, type VpsClient } from "@vps/sdk";
import { CliError } from "./cli-error.ts";
import { configPath, readConfig } from "./config-file.ts";
import type { GlobalOptions } from "./global-options.ts";

export interface Session {
  context: string | undefined;
  url: string;
  token: string | undefined;
  adminToken: string | undefined;
}

/** The service and tokens to use: `--context` or the current context, each overridden by VPS_URL, VPS_TOKEN, VPS_ADMIN_TOKEN. */
export function resolveSession(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Session {
  const path = configPath(env);
  const config = readConfig(path);
  const name = options.context ?? config.current_context;
  const context = name === undefined ? undefined : config.contexts[name];
  if (options.context !== undefined && !context)
    throw new CliError(`no context "${options.context}" in ${path}`, "unknown_context");
  const url = env.VPS_URL || context?.url;
  if (!url)
    throw new CliError(
      "no service: run `vps context create NAME --url URL --token-stdin` or set VPS_URL and VPS_TOKEN",
      "no_context",
    );
  return {
    context: context ? name : undefined,
    url,
    token: env.VPS_TOKEN || context?.token,
    adminToken: env.VPS_ADMIN_TOKEN || context?.admin_token,
  };
}

/** A client with the account's API token. */
export function customerClient(options: GlobalOptions): VpsClient {
  const session = resolveSession(options);
  if (!session.token)
    throw new CliError("no API token: give the context one (--token) or set VPS_TOKEN", "no_token");
  return createClient({ url: session.url, token: session.token });
}

/** A client with the operator's admin token (VPS_ADMIN_TOKEN of the service). */
export function adminClient(options: GlobalOptions): VpsClient {
  const session = resolveSession(options);
  if (!session.adminToken)
    throw new CliError(
      "no admin token: give the context one (--admin-token) or set VPS_ADMIN_TOKEN",
      "no_admin_token",
    );
  return createClient({ url: session.url, token: session.adminToken });
}
