// The CPU profile a process wrote under --cpu-prof (its first .cpuprofile in `dir`), summed: busy time by package
// or source file, the costliest functions, and the project's functions with what they call.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package, or the project's source file, a function belongs to. */
function owner(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const own = /\/((?:src|bench)\/.*)$/.exec(url);
  if (own) return own[1] as string;
  return url.startsWith("node:") ? "node (built-in modules)" : url;
}

function top(totals: Map<string, number>, all: number, count: number): string[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => `${((us / all) * 100).toFixed(1).padStart(5)}%  ${name}`);
}

/** The summary's lines; `everyFunction` lists every function by inclusive time, not only the project's. */
export function summariseProfile(profiles: string, everyFunction = false): string[] {
  const lines: string[] = [];
  const file = readdirSync(profiles).find((name) => name.endsWith(".cpuprofile"));
  if (!file) throw new Error("the service wrote no profile");
  const profile = JSON.parse(readFileSync(join(profiles, file), "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byFunctionInclusive = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === "(idle)") return;
    busy += us;
    const who = owner(frame.url, frame.functionName);
    byOwner.set(who, (byOwner.get(who) ?? 0) + us);
    const name = `${frame.functionName || "(anonymous)"}  ${who}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    // Inclusive: every project function on the sample's stack, once each.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (!f || !(everyFunction || /\/(src|bench)\//.test(f.url))) continue;
      const label = `${f.functionName || "(anonymous)"}  ${owner(f.url, f.functionName)}:${f.lineNumber + 1}`;
      if (seen.has(label)) continue;
      seen.add(label);
      byFunctionInclusive.set(label, (byFunctionInclusive.get(label) ?? 0) + us);
    }
  });
  lines.push(`busy ${(busy / 1e6).toFixed(1)} s of the service's CPU; self time by package or file:`);
  for (const line of top(byOwner, busy, 20)) lines.push(`  ${line}`);
  lines.push("\ncostliest functions (self time):");
  for (const line of top(byFunction, busy, 25)) lines.push(`  ${line}`);
  lines.push(
    `\n${everyFunction ? "all" : "the project's"} functions, time including what they call (async work is not followed):`,
  );
  for (const line of top(byFunctionInclusive, busy, everyFunction ? 60 : 25)) lines.push(`  ${line}`);
  return lines;
}
