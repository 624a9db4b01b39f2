import type { VpsClient } from "@vps/sdk";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { type GlobalOptions, globalOptions } from "../global-options.ts";
import { adminClient } from "../session.ts";

/** A command of the operator's API: its action gets the admin client and the global options. */
export function adminAction<A extends unknown[]>(
  run: (admin: VpsClient, globals: GlobalOptions, ...args: A) => Promise<void>,
): (...args: [...A, Command]) => Promise<void> {
  return async (...args) => {
    const cmd = args.at(-1) as Command;
    const globals = globalOptions(cmd);
    await run(adminClient(globals), globals, ...(args.slice(0, -1) as A));
  };
}

export const integer = (value: string, name: string) => {
  if (!/^\d+$/.test(value))
    throw new CliError(`${name} must be a whole number, not "${value}"`, "invalid_input", 2);
  return Number(value);
};
