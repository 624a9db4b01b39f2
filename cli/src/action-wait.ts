import type { Action, VpsClient } from "@vps/sdk";
import type { Command } from "commander";
import { CliError } from "./cli-error.ts";
import { capableTerminal, colourEnabled, paint } from "./colour.ts";

export interface WaitFlags {
  wait: boolean;
  timeout: string;
}

/** `--no-wait` and `--timeout` for a command that starts an action. */
export function withWaitOptions(command: Command): Command {
  return command
    .option("--no-wait", "print the action's id and return at once instead of waiting for it")
    .option("--timeout <seconds>", "how long to wait for the action", "600");
}

/**
 * Waits on the server for the action to end (the SDK's waitForAction), with a one-line progress on a terminal's
 * stderr; an action that ended in error is a CliError with its code.
 */
export async function awaitAction(
  vps: VpsClient,
  actionId: number,
  label: string,
  flags: WaitFlags,
): Promise<Action> {
  const timeoutSeconds = Number(flags.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new CliError(`--timeout must be a number of seconds, not "${flags.timeout}"`, "invalid_input", 2);
  const stopProgress = showProgress(`${label} (action ${actionId})`);
  let action: Action;
  try {
    action = await vps.waitForAction(actionId, { timeoutSeconds });
  } finally {
    stopProgress();
  }
  if (action.status === "error") {
    const error = action.error ?? { code: "action_failed", message: "the action failed" };
    throw new CliError(`action ${action.id} (${action.command}) failed: ${error.message}`, error.code);
  }
  return action;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * A `\r`-rewritten line with the time spent when stderr is a terminal (the label once on TERM=dumb, which cannot
 * rewrite it; nothing when piped); returns what clears it.
 */
function showProgress(label: string): () => void {
  const stderr = process.stderr;
  if (!stderr.isTTY) return () => {};
  if (!capableTerminal(stderr)) {
    stderr.write(`${label}…\n`);
    return () => {};
  }
  const started = Date.now();
  let frame = 0;
  const colour = colourEnabled(stderr);
  const draw = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    stderr.write(
      `\r${paint(FRAMES[frame++ % FRAMES.length] ?? "", "yellow", colour)} ${label}… ${seconds}s\u001b[K`,
    );
  };
  draw();
  const timer = setInterval(draw, 100);
  return () => {
    clearInterval(timer);
    stderr.write("\r\u001b[K");
  };
}

/** What an action command does once it has an action id: print it (`--no-wait`) or wait for it. */
export async function finishAction(
  vps: VpsClient,
  actionId: number,
  label: string,
  flags: WaitFlags,
  done: (action: Action) => Promise<void>,
): Promise<void> {
  if (!flags.wait) {
    process.stdout.write(`${actionId}\n`);
    return;
  }
  await done(await awaitAction(vps, actionId, label, flags));
}
