import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { CliError } from "./cli-error.ts";

/** A named service and the credentials used with it. */
export interface Context {
  url: string;
  token?: string;
  /** The operator's admin token, for `vps admin …`. */
  admin_token?: string;
}

export interface ConfigFile {
  current_context?: string;
  contexts: Record<string, Context>;
}

/** `$VPS_CONFIG`, else `$XDG_CONFIG_HOME/vps/config.toml`, else `~/.config/vps/config.toml`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VPS_CONFIG) return env.VPS_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "vps", "config.toml");
}

export function readConfig(path: string): ConfigFile {
  if (!existsSync(path)) return { contexts: {} };
  let parsed: Record<string, unknown>;
  try {
    parsed = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CliError(`${path} is not valid TOML: ${(error as Error).message}`, "invalid_config");
  }
  const contexts = (parsed.contexts ?? {}) as Record<string, Context>;
  const current = typeof parsed.current_context === "string" ? parsed.current_context : undefined;
  return { current_context: current, contexts };
}

/** Writes the file readable by its owner only (it holds tokens), its folder 0700; never half-written. */
export function writeConfig(path: string, config: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { current_context, contexts } = config;
  const text = stringify(current_context === undefined ? { contexts } : { current_context, contexts });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${text}\n`, { mode: 0o600 });
  // An existing file keeps the mode it was given; the new one is 0600 whatever the umask.
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** Enough of a token to tell tokens apart, never the whole of it. */
export function tokenPrefix(token: string | undefined): string {
  if (!token) return "";
  return `${token.slice(0, 6)}…`;
}
