// The fleet benchmark: npm run bench:fleet. A control plane with BENCH_FLEET_HOSTS hosts (registered and joined
// through the admin and agent APIs) holding BENCH_FLEET_SERVERS servers (placed straight in the database), and
// one process acting as every host's agent. Measures, on PostgreSQL when BENCH_POSTGRES_URL is set (else
// SQLite):
//   1. POST /servers/ with placement among a location's fleet hosts against the same creates in a location of
//      one host of huge capacity (placement trivial), in alternating rounds, medians and their ratio;
//   2. the hosts' heartbeats (every third of VPS_HOST_DOWN_AFTER_MS) and reports of their machines (every
//      VPS_POWER_SYNC_MS) for BENCH_FLEET_SECONDS: the service's CPU, requests per second, latencies, and
//      what they cost PostgreSQL;
//   3. during that load, one host falls silent: how long until the admin API shows it down and until placement
//      avoids it, against VPS_HOST_DOWN_AFTER_MS.
// Loopback only; stops by itself.
//
//   BENCH_FLEET_HOSTS=1000  BENCH_FLEET_SERVERS=100000  BENCH_FLEET_SECONDS=60  BENCH_FLEET_CREATE_SECONDS=4
//   BENCH_FLEET_CLAIMS=0    the agents keep no claim open (by default each does, as HostAgent's worker, and
//                           ends what it gets as succeeded)
//   BENCH_FLEET_PROFILE=1   the service under --cpu-prof, its CPU summed as npm run bench:profile does (the
//                           whole run: the joins and creates too, so keep BENCH_FLEET_CREATE_SECONDS short)
import { rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/db/database.ts";
import { HOST_DOWN_AFTER_MS } from "../src/domain/host-placement.ts";
import { summariseProfile } from "./cpu-profile-summary.ts";
import { type Call, FleetSimulator } from "./fleet-agents.ts";
import {
  ADMIN,
  FLEET_CAPACITY,
  FLEET_LOCATIONS,
  joinFleet,
  placeServers,
  prepareCatalogue,
  registerAndJoin,
  SOLO_CAPACITY,
  SOLO_LOCATION,
} from "./fleet-seed.ts";
import {
  AUTH,
  CONNECTIONS,
  cpuSeconds,
  freshDatabase,
  type Load,
  load,
  POSTGRES,
  rssMiB,
  seed,
  startService,
  work,
} from "./harness.ts";
import { postgresCost, postgresSnapshot } from "./postgres-cost.ts";

const HOSTS = Number(process.env.BENCH_FLEET_HOSTS ?? 1000);
const SERVERS = Number(process.env.BENCH_FLEET_SERVERS ?? 100_000);
const SECONDS = Number(process.env.BENCH_FLEET_SECONDS ?? 60);
const CREATE_SECONDS = Number(process.env.BENCH_FLEET_CREATE_SECONDS ?? 4);
const PROFILE = process.env.BENCH_FLEET_PROFILE === "1";
const CLAIMS = process.env.BENCH_FLEET_CLAIMS !== "0";
const ROUNDS = 3;
/** The service's defaults, which the agents follow: a heartbeat every third of the first, a report every second. */
const DOWN_AFTER_MS = HOST_DOWN_AFTER_MS;
const POWER_SYNC_MS = 15_000;
/** Where the measured creates go: one of the fleet's locations. */
const CREATE_LOCATION = "us-east";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits });

async function main(): Promise<void> {
  const backend = POSTGRES ? "postgres" : "sqlite";
  console.log(
    `fleet benchmark — ${backend}, ${fmt(HOSTS)} hosts, ${fmt(SERVERS)} servers; ${cpus().length} × ` +
      `${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`,
  );
  const databaseUrl = await freshDatabase(backend, "vps_bench_fleet");
  let started = performance.now();
  await seed(databaseUrl, SERVERS);
  // Only the registered hosts take servers: no embedded host per location.
  const profiles = join(work, "profiles");
  const service = await startService(
    databaseUrl,
    { VPS_EMBEDDED_HOSTS: "off" },
    PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${profiles}`] : [],
  );
  const pid = service.child.pid;
  let simulator: FleetSimulator | undefined;
  try {
    const planId = await prepareCatalogue(service.url, [CREATE_LOCATION]);
    const fleet = await joinFleet(service.url, HOSTS);
    const solo = await registerAndJoin(service.url, "solo.bench", SOLO_LOCATION, SOLO_CAPACITY);
    const database = await openDatabase(databaseUrl);
    const byHost = await placeServers(database.db, fleet).finally(() => database.close());
    console.log(
      `seeded ${fmt(SERVERS)} servers, registered and joined ${fmt(HOSTS + 1)} hosts through the API, placed the ` +
        `servers in the database: ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    simulator = new FleetSimulator(
      service.url,
      [
        ...fleet.map((host) => ({ host, capacity: FLEET_CAPACITY, servers: byHost.get(host.id) ?? [] })),
        { host: solo, capacity: SOLO_CAPACITY, servers: [] },
      ],
      { heartbeatMs: Math.floor(DOWN_AFTER_MS / 3), reportMs: POWER_SYNC_MS },
    );
    // The hosts stay up through the creates: their heartbeats run (the same load on both arms), not reports.
    simulator.startHeartbeats();
    if (CLAIMS) simulator.startClaims();

    console.log(
      `\n== creates per second: ${fmt(HOSTS / FLEET_LOCATIONS.length)} hosts in ${CREATE_LOCATION} against one host ` +
        `in ${SOLO_LOCATION} (${ROUNDS} alternating rounds of ${CREATE_SECONDS} s, ${CONNECTIONS} connections)`,
    );
    const body = (location: string) =>
      JSON.stringify({ name: "bench-create", plan_id: planId, os_id: 3, location });
    const rounds: { fleet: Load; solo: Load }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const fleetLoad = await load(`${service.url}/api/v1/servers/`, {
        method: "POST",
        body: body(CREATE_LOCATION),
        seconds: CREATE_SECONDS,
      });
      const soloLoad = await load(`${service.url}/api/v1/servers/`, {
        method: "POST",
        body: body(SOLO_LOCATION),
        seconds: CREATE_SECONDS,
      });
      rounds.push({ fleet: fleetLoad, solo: soloLoad });
      console.log(
        `  round ${round + 1}: with placement ${fmt(fleetLoad.rps)} req/s (errors ${fleetLoad.errors}), ` +
          `one host ${fmt(soloLoad.rps)} req/s (errors ${soloLoad.errors})`,
      );
    }
    const of = (pick: (r: { fleet: Load; solo: Load }) => number) => median(rounds.map(pick));
    const errorsOf = (pick: (r: { fleet: Load; solo: Load }) => Load) => {
      const n = rounds.reduce((sum, r) => sum + pick(r).errors, 0);
      return n > 0 ? `, ${n} not 201 (the figure is not valid)` : "";
    };
    console.log(
      `POST /servers/, placement among ${fmt(HOSTS / FLEET_LOCATIONS.length)} hosts: ${fmt(of((r) => r.fleet.rps))} req/s, ` +
        `p50 ${of((r) => r.fleet.p50)} ms, p99 ${of((r) => r.fleet.p99)} ms${errorsOf((r) => r.fleet)}`,
    );
    console.log(
      `POST /servers/, one host in the location:    ${fmt(of((r) => r.solo.rps))} req/s, ` +
        `p50 ${of((r) => r.solo.p50)} ms, p99 ${of((r) => r.solo.p99)} ms${errorsOf((r) => r.solo)}`,
    );
    console.log(`ratio (with placement / one host): ${of((r) => r.fleet.rps / r.solo.rps).toFixed(2)}`);
    if (CLAIMS) {
      console.log(
        `agents' claims meanwhile: ${fmt(simulator.claims)} answered, ${fmt(simulator.claimed)} operations claimed and ended`,
      );
    }

    console.log(
      `\n== ${fmt(HOSTS + 1)} hosts' heartbeats every ${DOWN_AFTER_MS / 3000} s and reports of ~${fmt(SERVERS / HOSTS)} ` +
        `machines every ${POWER_SYNC_MS / 1000} s, for ${SECONDS} s`,
    );
    const pgBefore = POSTGRES ? await postgresSnapshot(databaseUrl) : undefined;
    const cpuBefore = cpuSeconds(pid);
    started = performance.now();
    const callsBefore = simulator.calls.length;
    simulator.startReports();

    // A third of the way in, the solo host dies: its heartbeats stop. Then the admin API and a create in its
    // location (it is the only host there) are polled until the one shows it down and the other is refused.
    await sleep((SECONDS * 1000) / 3);
    const silencedAt = performance.now();
    const lastBeat = simulator.silence(solo.id);
    const detection = detect(service.url, solo.id, planId, DOWN_AFTER_MS * 2);
    detection.catch(() => undefined); // awaited below; a failure is reported there
    await sleep(Math.max(0, started + SECONDS * 1000 - performance.now()));
    const window = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(pid) - cpuBefore;
    const pgAfter = POSTGRES ? await postgresSnapshot(databaseUrl) : undefined;
    const calls = simulator.calls.slice(callsBefore).filter((c) => c.at >= started);
    summarise(calls, window, cpu);
    for (const [kind, error] of simulator.firstErrors) console.log(`  first failed ${kind}: ${error}`);
    if (pgBefore && pgAfter) {
      const cost = postgresCost(pgBefore, pgAfter);
      const c = cost.counters;
      console.log(
        `PostgreSQL: ${fmt(c.xact_commit / window)} commits/s (${fmt(c.xact_rollback)} rollbacks), ` +
          `blocks hit ${fmt(c.blks_hit / window)}/s read ${fmt(c.blks_read / window)}/s, rows ` +
          `returned ${fmt(c.tup_returned / window)}/s fetched ${fmt(c.tup_fetched / window)}/s inserted ` +
          `${fmt(c.tup_inserted / window)}/s updated ${fmt(c.tup_updated / window)}/s`,
      );
      console.log(
        cost.backendCpuSeconds === undefined
          ? "PostgreSQL backends' CPU: not readable here"
          : `PostgreSQL backends' CPU (the service's connections): ${cost.backendCpuSeconds.toFixed(1)} s, ` +
              `${((cost.backendCpuSeconds / window) * 100).toFixed(0)}% of a core`,
      );
      if (cost.top.length > 0) for (const line of cost.top) console.log(`  ${line}`);
      else
        console.log("pg_stat_statements: not loaded (shared_preload_libraries), so no per-statement figures");
    }
    const detected = await detection;
    const down = (await (
      await fetch(`${service.url}/api/v1/admin/hosts/?state=down&page_size=1`, { headers: ADMIN })
    ).json()) as { count: number };
    console.log(`hosts down at the end of the load: ${down.count} (1 expected: the one silenced below)`);
    const fromLast = (t: number | undefined) =>
      t === undefined ? "not seen" : `${((t - lastBeat) / 1000).toFixed(1)} s`;
    const fromStop = (t: number | undefined) =>
      t === undefined ? "not seen" : `${((t - silencedAt) / 1000).toFixed(1)} s`;
    console.log(
      `\n== a dead host (VPS_HOST_DOWN_AFTER_MS ${DOWN_AFTER_MS / 1000} s; heartbeats stopped ` +
        `${((silencedAt - lastBeat) / 1000).toFixed(1)} s after its last accepted one)`,
    );
    console.log(
      `admin API shows it down: ${fromLast(detected.down)} after its last heartbeat (${fromStop(detected.down)} after it stopped)`,
    );
    console.log(
      `placement avoids it (409 no_capacity): ${fromLast(detected.avoided)} after its last heartbeat ` +
        `(${fromStop(detected.avoided)} after it stopped); ${detected.placedMeanwhile} creates placed on it meanwhile`,
    );
    console.log(`\nresident memory of the service: ${rssMiB(pid)} MiB`);
  } finally {
    await simulator?.stop();
    await service.stop();
  }
  if (PROFILE) {
    console.log("\n== the service's CPU profile over the whole run");
    for (const line of summariseProfile(profiles)) console.log(line);
  }
}

/**
 * Polls the host's state in the admin API and a create in its location (where it is the only host) every
 * 100 ms, until the one shows `down` and the other is refused 409 no_capacity, or `timeoutMs` passes.
 */
async function detect(
  url: string,
  hostId: number,
  planId: number,
  timeoutMs: number,
): Promise<{ down?: number; avoided?: number; placedMeanwhile: number }> {
  const deadline = performance.now() + timeoutMs;
  const seen: { down?: number; avoided?: number; placedMeanwhile: number } = { placedMeanwhile: 0 };
  while ((seen.down === undefined || seen.avoided === undefined) && performance.now() < deadline) {
    if (seen.down === undefined) {
      const host = (await (
        await fetch(`${url}/api/v1/admin/hosts/${hostId}/`, { headers: ADMIN })
      ).json()) as {
        state: string;
      };
      if (host.state === "down") seen.down = performance.now();
    }
    if (seen.avoided === undefined) {
      const res = await fetch(`${url}/api/v1/servers/`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ name: "bench-probe", plan_id: planId, os_id: 3, location: SOLO_LOCATION }),
      });
      const answer = (await res.json()) as { error?: { code: string } };
      if (res.status === 409 && answer.error?.code === "no_capacity") seen.avoided = performance.now();
      else if (res.status === 201) seen.placedMeanwhile++;
      else throw new Error(`a create in ${SOLO_LOCATION} answered ${res.status}: ${JSON.stringify(answer)}`);
    }
    await sleep(100);
  }
  return seen;
}

function summarise(calls: Call[], window: number, cpu: number): void {
  const offered = (kind: Call["kind"]) =>
    kind === "heartbeat"
      ? (HOSTS + 1) / (DOWN_AFTER_MS / 3000)
      : kind === "report"
        ? HOSTS / (POWER_SYNC_MS / 1000)
        : Number.NaN;
  for (const kind of ["heartbeat", "report", "finish"] as const) {
    const of = calls.filter((c) => c.kind === kind);
    if (kind === "finish" && of.length === 0) continue;
    const ok = of.filter((c) => c.ok).map((c) => c.ms);
    console.log(
      `${kind.padEnd(9)}: ${fmt(ok.length / window, 1)}/s answered` +
        `${kind === "finish" ? "" : ` of ${fmt(offered(kind), 1)}/s due`}, ` +
        `p50 ${percentile(ok, 0.5).toFixed(1)} ms, p99 ${percentile(ok, 0.99).toFixed(1)} ms` +
        `${of.length > ok.length ? `, ${of.length - ok.length} failed` : ""}`,
    );
  }
  console.log(
    `all agent requests: ${fmt(calls.filter((c) => c.ok).length / window, 1)}/s; the service's CPU ` +
      `${cpu.toFixed(1)} s in ${window.toFixed(0)} s, ${((cpu / window) * 100).toFixed(0)}% of a core`,
  );
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
