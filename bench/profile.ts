// Where the service's time goes under one load: npm run bench:profile. Starts the service under --cpu-prof on
// a database seeded with PROFILE_SERVERS servers, drives PROFILE_ENDPOINT with autocannon for BENCH_DURATION
// seconds, and prints the busy time by package (or source file) and the costliest functions.
//
//   PROFILE_ENDPOINT=detail|list|filtered|create|engine   (default detail; engine: every server changes state at once)
//   PROFILE_SERVERS=10000
//   PROFILE_BACKEND=sqlite|postgres   (postgres needs BENCH_POSTGRES_URL; only the service's own CPU is profiled)
//   PROFILE_INCLUSIVE=all   list every function by inclusive time, not only the project's
import { rmSync } from "node:fs";
import { join } from "node:path";
import { summariseProfile } from "./cpu-profile-summary.ts";
import {
  engineThroughput,
  freshDatabase,
  load,
  roomForCreates,
  seed,
  startService,
  work,
} from "./harness.ts";

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

  for (const line of summariseProfile(profiles, everyFunction)) console.log(line);
} finally {
  rmSync(work, { recursive: true, force: true });
}
