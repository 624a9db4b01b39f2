import type { Command } from "commander";

const examples = new WeakMap<Command, string[]>();

/** Every command's --help ends with examples of its use. */
export function example(command: Command, ...lines: string[]): Command {
  examples.set(command, lines);
  return command.addHelpText(
    "after",
    `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((l) => `  ${l}`).join("\n")}`,
  );
}

/** A group without its own examples shows its subcommands' first ones. */
export function exampleFromSubcommands(command: Command): void {
  for (const sub of command.commands) exampleFromSubcommands(sub);
  if (examples.has(command)) return;
  const lines = command.commands.flatMap((sub) => examples.get(sub)?.slice(0, 1) ?? []);
  if (lines.length) example(command, ...lines);
}
