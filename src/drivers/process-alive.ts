import { readFileSync } from "node:fs";

/**
 * Whether a process with this pid exists on this host and has not exited. A zombie (exited, not yet reaped:
 * daemonised QEMUs are reparented to a PID 1 that may never reap them) counts as gone.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    // No /proc (or the process ended just now): the signal check above is all there is.
    return true;
  }
}
