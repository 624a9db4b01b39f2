import type { Command } from "commander";

export type OutputFormat = "table" | "json" | "yaml";

/** The options every command takes (declared on the program, given before or after the command). */
export interface GlobalOptions {
  context?: string;
  output: OutputFormat;
  columns?: string;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}
