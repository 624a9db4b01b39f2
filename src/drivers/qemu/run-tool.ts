import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { DriverError } from "../driver.ts";

const run = promisify(execFile);

/**
 * Runs a host program (qemu-img, qemu-system-x86_64, ip) for a driver step. A failure becomes a DriverError
 * with the tail of its stderr: permanent when the program is missing, transient otherwise.
 */
export async function runTool(
  file: string,
  args: string[],
  signal: AbortSignal,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(file, args, { signal, maxBuffer: 4 * 1024 * 1024 });
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const permanent = e.code === "ENOENT";
    throw new DriverError(
      permanent ? "tool_missing" : "qemu_failed",
      `${file} ${args[0] ?? ""} failed: ${(e.stderr ?? e.message).trim().split("\n").slice(-3).join(" ")}`,
      permanent,
    );
  }
}
