import { readFileSync } from "node:fs";
import { processAlive } from "../process-alive.ts";

const CLOCK_TICKS_PER_SECOND = 100;

/** Whether `pid` is alive and is the QEMU started for this VM: a recycled pid is some other process. */
export function isVmProcess(pid: number | null, id: string): boolean {
  if (pid === null || !processAlive(pid)) return false;
  try {
    // qemuArgs names the process after the VM.
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`vps-${id},process=vps-${id}`);
  } catch {
    return false;
  }
}

/** CPU time and resident memory of a running QEMU, from /proc. */
export function processUsage(pid: number): { cpuTimeNs: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return { cpuTimeNs: (ticks / CLOCK_TICKS_PER_SECOND) * 1e9, rssMb: Math.round(rssKb / 1024) };
}
