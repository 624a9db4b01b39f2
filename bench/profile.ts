// Where the service's time goes under one load: npm run bench:profile. Starts the service under --cpu-prof on
// a database seeded with PROFILE_SERVERS servers, drives PROFILE_ENDPOINT with autocannon for BENCH_DURATION
// seconds, and prints the busy time by package (or source file) and the costliest functions.
//
//   PROFILE_ENDPOINT=detail|list|filtered|create|engine   (default detail; engine: every server changes state at once)
//   PROFILE_SERVERS=10000
//   PROFILE_BACKEND=sqlite|postgres   (postgres needs BENCH_POSTGRES_URL; only the service's own CPU is profiled)
//   PROFILE_INCLUSIVE=all   list every function by inclusive time, not only the project's
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  engineThroughput,
  freshDatabase,
  load,
  roomForCreates,
  seed,
  startService,
  work,
} from "./harness.ts";

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

const endpoint = process.env.PROFILE_ENDPOINT ?? "detail";
const size = Number(process.env.PROFILE_SERVERS ?? 10_000);
const backend = process.env.PROFILE_BACKEND ?? "sqlite";
const everyFunction = process.env.PROFILE_INCLUSIVE === "all";
try {
  const profiles = join(work, "profiles");
  const flags = ["--cpu-prof", `--cpu-prof-dir=${profiles}`];
  if (endpoint === "engine") {
    const perSecond = await engineThroughput(backend, size, flags);
    console.log(`engine with ${size} servers changing state: ${perSecond.toFixed(0)} operations/s\n`);
  } else {
    const databaseUrl = await freshDatabase(backend, "vps_profile");
    const mine = await seed(databaseUrl, size);
    const service = await startService(databaseUrl, {}, flags);
    const path = {
      detail: `/api/v1/servers/${mine[Math.floor(mine.length / 2)]}/`,
      list: "/api/v1/servers/?page_size=50",
      filtered: "/api/v1/servers/?page_size=50&status=active&location=us-west",
      create: "/api/v1/servers/",
    }[endpoint];
    if (!path)
      throw new Error(`PROFILE_ENDPOINT must be detail, list, filtered, create or engine, not ${endpoint}`);
    if (endpoint === "create") await roomForCreates(service);
    const result = await load(
      `${service.url}${path}`,
      endpoint === "create"
        ? {
            method: "POST",
            body: JSON.stringify({ name: "profiled", plan_id: 3, os_id: 3, location: "us-east" }),
          }
        : {},
    );
    await service.stop();
    console.log(
      `${endpoint} at ${size} servers (${backend}): ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms\n`,
    );
  }

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
  console.log(`busy ${(busy / 1e6).toFixed(1)} s of the service's CPU; self time by package or file:`);
  for (const line of top(byOwner, busy, 20)) console.log(`  ${line}`);
  console.log("\ncostliest functions (self time):");
  for (const line of top(byFunction, busy, 25)) console.log(`  ${line}`);
  console.log(
    `\n${everyFunction ? "all" : "the project's"} functions, time including what they call (async work is not followed):`,
  );
  for (const line of top(byFunctionInclusive, busy, everyFunction ? 60 : 25)) console.log(`  ${line}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
