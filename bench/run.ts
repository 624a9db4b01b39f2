// The benchmark suite: npm run bench. Every HTTP figure is measured with autocannon over loopback against the
// real service, running as its own process, beside a baseline measured in the same run: a bare Fastify route
// answering the same bytes. Figures are ratios to that ceiling, not absolute numbers from a noisy machine.
//
//   BENCH_SIZES=1000,10000,100000   servers in the database (spread over ten accounts)
//   BENCH_DURATION=6                seconds per figure (split over alternating rounds)
//   BENCH_POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres   also on PostgreSQL
//   BENCH_BACKENDS=sqlite,postgres  which backends (PostgreSQL needs BENCH_POSTGRES_URL)
//   BENCH_FIGURES=detail,list,filtered,rest,engine   which figures (rest: rate limits, lifecycle and creates;
//                                   spread, not run unless named: the detail of each of the account's servers in turn)
//   BENCH_ONLY=write                the write path alone: create -> active, POST /servers/ and the engine
//   BENCH_ONLY=create               POST /servers/ alone
//   BENCH_WARMUP=0                  seconds of unmeasured load on the service and its baseline before a read's rounds
import { rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import {
  AUTH,
  CONNECTIONS,
  DURATION,
  engineThroughput,
  freshDatabase,
  type Load,
  load,
  POSTGRES,
  type Running,
  roomForCreates,
  rssMiB,
  seed,
  startBaseline,
  startService,
  work,
} from "./harness.ts";

/** Alternating baseline/service rounds per HTTP figure. */
const ROUNDS = 3;
const CREATES_ONLY = process.env.BENCH_ONLY === "create";
const WRITES_ONLY = process.env.BENCH_ONLY === "write" || CREATES_ONLY;
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").filter(Boolean).map(Number);
const BACKENDS = (process.env.BENCH_BACKENDS ?? "sqlite,postgres")
  .split(",")
  .filter((backend) => backend === "sqlite" || (backend === "postgres" && POSTGRES));
const FIGURES = new Set((process.env.BENCH_FIGURES ?? "detail,list,filtered,rest,engine").split(","));
const NOT_TAKEN = { ratio: Number.NaN, p99: Number.NaN };
/**
 * The service's code is compiled by V8 while the first seconds of load run (a sixth of its CPU in the first two
 * seconds went to the optimising compilers), the bare route's in a moment: a warm-up leaves that out of a figure.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0);

const rows: string[] = [];
const targets: string[] = [];
function report(line: string): void {
  rows.push(line);
  console.log(line);
}
function target(name: string, met: boolean, figure: string): void {
  const line = `  [${met ? "met" : "NOT MET"}] ${name}: ${figure}`;
  targets.push(line);
  console.log(line);
}

/**
 * The endpoint under load against its baseline of the same bytes, in ROUNDS alternating rounds (baseline, then
 * service), so that a change in the machine's speed during the run falls on both. Figures are the medians of
 * the rounds; the ratio is the median of each round's ratio.
 */
async function compare(
  label: string,
  service: Running,
  path: string,
  request: { method: "GET" | "POST"; body?: string; paths?: string[] } = { method: "GET" },
  rounds = ROUNDS,
): Promise<{ ratio: number; p99: number }> {
  const { paths, ...init } = request;
  const body = await (await fetch(`${service.url}${path}`, { headers: AUTH, ...init })).text();
  const baseline = await startBaseline(body);
  const results: { base: Load; real: Load }[] = [];
  try {
    // Reads only: a warm-up of creates would fill the engine's queue before the figure.
    if (WARMUP > 0 && request.method === "GET") {
      await load(`${baseline.url}${path}`, { seconds: WARMUP, ...request });
      await load(`${service.url}${path}`, { seconds: WARMUP, ...request });
    }
    for (let round = 0; round < rounds; round++) {
      const seconds = DURATION / rounds;
      const base = await load(`${baseline.url}${path}`, { seconds, ...request });
      const real = await load(`${service.url}${path}`, { seconds, ...request });
      results.push({ base, real });
    }
  } finally {
    await baseline.stop();
  }
  const of = (pick: (r: { base: Load; real: Load }) => number) => median(results.map(pick));
  const real = { rps: of((r) => r.real.rps), p50: of((r) => r.real.p50), p99: of((r) => r.real.p99) };
  const base = of((r) => r.base.rps);
  const ratio = of((r) => r.real.rps / r.base.rps);
  const errors = results.reduce((sum, r) => sum + r.real.errors, 0);
  report(
    `${label.padEnd(44)} ${real.rps.toFixed(0).padStart(7)} req/s  p50 ${String(real.p50).padStart(3)} ms  p99 ${String(real.p99).padStart(3)} ms` +
      `   baseline ${base.toFixed(0).padStart(7)} req/s (${body.length} B)  ratio ${ratio.toFixed(2)}${errors ? `  errors ${errors}` : ""}`,
  );
  return { ratio, p99: real.p99 };
}

async function lifecycle(service: Running): Promise<{ createMs: number[]; stopMs: number[] }> {
  const createMs: number[] = [];
  const stopMs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = performance.now();
    const created = (await (
      await fetch(`${service.url}/api/v1/servers/`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ name: `life-${i}`, plan_id: 3, os_id: 3, location: "eu-central" }),
      })
    ).json()) as { id: number };
    await fetch(`${service.url}/api/v1/servers/${created.id}/?until_status=active&wait=30`, {
      headers: AUTH,
    });
    createMs.push(performance.now() - started);
    const stopping = performance.now();
    await fetch(`${service.url}/api/v1/servers/${created.id}/stop/`, { method: "POST", headers: AUTH });
    await fetch(`${service.url}/api/v1/servers/${created.id}/?until_status=stopped&wait=30`, {
      headers: AUTH,
    });
    stopMs.push(performance.now() - stopping);
    await fetch(`${service.url}/api/v1/servers/${created.id}/`, { method: "DELETE", headers: AUTH });
  }
  return { createMs, stopMs };
}

/**
 * Start/stop cycles: CONNECTIONS clients, each with a server of its own, stop it and wait for `stopped`, start
 * it and wait for `active`, over and over for DURATION seconds. Each cycle is four requests.
 */
async function startStopCycles(
  service: Running,
  ids: number[],
): Promise<{ cycleMs: number[]; seconds: number }> {
  const cycleMs: number[] = [];
  const started = performance.now();
  const deadline = started + DURATION * 1000;
  const post = (url: string) => fetch(url, { method: "POST", headers: AUTH }).then((r) => r.arrayBuffer());
  const get = (url: string) => fetch(url, { headers: AUTH }).then((r) => r.arrayBuffer());
  await Promise.all(
    ids.slice(0, CONNECTIONS).map(async (id) => {
      const server = `${service.url}/api/v1/servers/${id}/`;
      while (performance.now() < deadline) {
        const cycle = performance.now();
        await post(`${server}stop/`);
        await get(`${server}?until_status=stopped&wait=30`);
        await post(`${server}start/`);
        await get(`${server}?until_status=active&wait=30`);
        cycleMs.push(performance.now() - cycle);
      }
    }),
  );
  return { cycleMs, seconds: (performance.now() - started) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const p99 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))] ?? Number.NaN;

/** create -> active, then the create load (which fills the engine's queue, so it comes last). */
async function writes(service: Running): Promise<void> {
  if (!CREATES_ONLY) {
    const { createMs } = await lifecycle(service);
    report(
      `POST /servers/ -> active (sim delay 0)          median ${median(createMs).toFixed(1)} ms  p99 ${p99(createMs).toFixed(1)} ms`,
    );
  }
  await roomForCreates(service);
  await compare(
    "POST /servers/",
    service,
    "/api/v1/servers/",
    {
      method: "POST",
      body: JSON.stringify({ name: "bench-create", plan_id: 3, os_id: 3, location: "us-east" }),
    },
    1,
  );
}

async function main(): Promise<void> {
  console.log(
    `vps control plane benchmarks — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
      `Node ${process.version}, autocannon ${CONNECTIONS} connections × ${DURATION} s per figure\n`,
  );
  for (const backend of BACKENDS) {
    for (const size of SIZES) {
      console.log(`\n== ${backend}, ${size.toLocaleString("en")} servers`);
      const databaseUrl = await freshDatabase(backend, `vps_bench_${size}`);
      const mine = await seed(databaseUrl, size);
      const service = await startService(databaseUrl);
      const idle = rssMiB(service.child.pid);
      const id = mine[Math.floor(mine.length / 2)];
      if (WRITES_ONLY) {
        await writes(service);
        await service.stop();
        continue;
      }
      const detail = FIGURES.has("detail")
        ? await compare("token check + GET /servers/{id}/", service, `/api/v1/servers/${id}/`)
        : NOT_TAKEN;
      // Concurrent requests for different servers, as many clients make (the figure above reads one server).
      if (FIGURES.has("spread"))
        await compare("token check + GET /servers/{id}/, each in turn", service, `/api/v1/servers/${id}/`, {
          method: "GET",
          paths: mine.map((server) => `/api/v1/servers/${server}/`),
        });
      if (FIGURES.has("list"))
        await compare("GET /servers/?page_size=50", service, "/api/v1/servers/?page_size=50");
      const filtered = FIGURES.has("filtered")
        ? await compare(
            "GET /servers/?page_size=50&status&location",
            service,
            "/api/v1/servers/?page_size=50&status=active&location=us-west",
          )
        : NOT_TAKEN;
      if (size === SIZES[0] && FIGURES.has("rest")) {
        // What rate limiting costs a read, with a budget too large to run out under the load.
        const limited = await startService(databaseUrl, {
          VPS_RATE_LIMIT_READS: "1000000000",
          VPS_RATE_LIMIT_WRITES: "1000000000",
        });
        await compare("same, rate limits on (never reached)", limited, `/api/v1/servers/${id}/`);
        await limited.stop();
        // Lifecycle first, while the engine's queue is empty; then the create load, which fills it.
        const { createMs, stopMs } = await lifecycle(service);
        report(
          `POST /servers/ -> active (sim delay 0)          median ${median(createMs).toFixed(1)} ms  p99 ${p99(createMs).toFixed(1)} ms`,
        );
        report(
          `POST stop -> stopped (sim delay 0)             median ${median(stopMs).toFixed(1)} ms  p99 ${p99(stopMs).toFixed(1)} ms`,
        );
        // The baseline runs the same four requests per cycle against a bare route answering a server's detail.
        const detailBody = await (
          await fetch(`${service.url}/api/v1/servers/${id}/`, { headers: AUTH })
        ).text();
        const cycleBaseline = await startBaseline(detailBody);
        const baseCycles = await startStopCycles(cycleBaseline, mine).finally(() => cycleBaseline.stop());
        const cycles = await startStopCycles(service, mine);
        const perSecond = cycles.cycleMs.length / cycles.seconds;
        const basePerSecond = baseCycles.cycleMs.length / baseCycles.seconds;
        report(
          `${"start/stop cycle (stop, wait, start, wait)".padEnd(44)} ${perSecond.toFixed(0).padStart(7)} cycles/s  p50 ${median(cycles.cycleMs).toFixed(1)} ms  p99 ${p99(cycles.cycleMs).toFixed(1)} ms` +
            `   baseline ${basePerSecond.toFixed(0).padStart(7)} cycles/s  ratio ${(perSecond / basePerSecond).toFixed(2)}  (${CONNECTIONS} clients)`,
        );
        if (backend === "sqlite")
          target(
            "create -> active under 20 ms at zero sim delay",
            median(createMs) < 20,
            `${median(createMs).toFixed(1)} ms`,
          );
        // Last, and in one round: the creates fill the engine's queue, whose work would slow a later baseline.
        // The baseline parses the same JSON body and answers the same bytes.
        await roomForCreates(service);
        await compare(
          "POST /servers/",
          service,
          "/api/v1/servers/",
          {
            method: "POST",
            body: JSON.stringify({ name: "bench-create", plan_id: 3, os_id: 3, location: "us-east" }),
          },
          1,
        );
      }
      report(`resident memory: idle ${idle} MiB, after the loads ${rssMiB(service.child.pid)} MiB`);
      if (backend === "sqlite" && FIGURES.has("detail") && FIGURES.has("filtered")) {
        target(
          `detail at >= 50% of baseline (${size} servers)`,
          detail.ratio >= 0.5,
          `${(detail.ratio * 100).toFixed(0)}%`,
        );
        target(
          `filtered list at >= 50% of baseline (${size} servers)`,
          filtered.ratio >= 0.5,
          `${(filtered.ratio * 100).toFixed(0)}%`,
        );
        if (size >= 100_000) {
          target("detail p99 under 10 ms at 100,000 servers", detail.p99 < 10, `${detail.p99} ms`);
          target("filtered list p99 under 10 ms at 100,000 servers", filtered.p99 < 10, `${filtered.p99} ms`);
        }
      }
      await service.stop();
    }
    if (!FIGURES.has("engine") || CREATES_ONLY) continue;
    const opsPerSecond = await engineThroughput(backend, 10_000);
    report(
      `engine: 10,000 servers changing state at once: ${opsPerSecond.toFixed(0)} operations/s (${backend})`,
    );
    if (backend === "sqlite")
      target(
        "at least 2,000 operations per second through the engine",
        opsPerSecond >= 2000,
        `${opsPerSecond.toFixed(0)}/s`,
      );
  }
  console.log("\ntargets:");
  for (const line of targets) console.log(line);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
