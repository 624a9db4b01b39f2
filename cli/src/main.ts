#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { VpsApiError, VpsWaitTimeoutError } from "@vps/sdk";
import { CommanderError } from "commander";
import { CliError } from "./cli-error.ts";
import { buildProgram } from "./program.ts";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** `error: <message> (<code>)` on stderr and the exit status: 2 for usage, 1 for anything else. */
function fail(error: unknown): number {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof VpsApiError) {
    say(`error: ${error.message} (${error.code})`);
    for (const [field, messages] of Object.entries(error.fields)) say(`  ${field}: ${messages.join("; ")}`);
    return 1;
  }
  if (error instanceof CliError) {
    say(`error: ${error.message} (${error.code})`);
    return error.exitCode;
  }
  if (error instanceof VpsWaitTimeoutError) {
    say(`error: the action is still running: ${error.message} (wait_timeout)`);
    return 1;
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
    say(`error: cannot reach the service: ${cause} (network_error)`);
    return 1;
  }
  say(`error: ${error instanceof Error ? error.message : String(error)} (internal)`);
  return 1;
}

// Whatever read the output has gone (`vps server list | head -1`): stop quietly, not with a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

try {
  await buildProgram(version).parseAsync(process.argv);
} catch (error) {
  process.exitCode = fail(error);
}
