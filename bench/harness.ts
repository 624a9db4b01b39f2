// What the benchmark scripts share: the service and the baseline started as processes of their own, a fresh
// database seeded with servers, and autocannon's load.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { openDatabase } from "../src/db/database.ts";
import { freePort } from "../test/support/spawned-server.ts";
import { BENCH_TOKEN, seedServers } from "./seed.ts";

const ROOT = join(import.meta.dirname, "..");
export const DURATION = Number(process.env.BENCH_DURATION ?? 6);
export const CONNECTIONS = 10;
export const POSTGRES = process.env.BENCH_POSTGRES_URL;
export const BENCH_ADMIN_TOKEN = "bench-admin-token-0123456789abcdef";
export const AUTH = { authorization: `Bearer ${BENCH_TOKEN}`, "content-type": "application/json" };
/** Scratch space of this run: SQLite files, baseline bodies, profiles. */
export const work = mkdtempSync(join(tmpdir(), "vps-bench-"));

export interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startProcess(args: string[], env: Record<string, string>, port: number): Promise<Running> {
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/healthz`)).ok, 30_000);
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** The real service (`src/main.ts`, sim driver at zero delay, rate limits off), optionally under node flags. */
export async function startService(
  databaseUrl: string,
  extra: Record<string, string> = {},
  nodeFlags: string[] = [],
): Promise<Running> {
  const port = await freePort();
  return startProcess(
    [...nodeFlags, join(ROOT, "src", "main.ts")],
    {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      VPS_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      VPS_SIM_DELAY_MS: "0",
      VPS_RATE_LIMIT_READS: "0",
      VPS_RATE_LIMIT_WRITES: "0",
      VPS_POWER_SYNC_MS: "600000",
      VPS_BILLING_INTERVAL_MS: "600000",
      // As large as a host may be: the seeded servers and every create under load fit on the sim hosts.
      VPS_SIM_HOST_CAPACITY: "vcpus=100000,memory=1000000000,disk=1000000000",
      ...extra,
    },
    port,
  );
}

/**
 * A /16 of addresses in us-east, where the create load creates: the location's own 241 run out within the first
 * second, and every create after that would be a 409 no_address_available, not a create.
 */
export async function roomForCreates(service: Running): Promise<void> {
  const res = await fetch(`${service.url}/api/v1/admin/locations/us-east/addresses/`, {
    method: "POST",
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ cidr: "10.200.0.0/16" }),
  });
  if (!res.ok) throw new Error(`adding addresses answered ${res.status}: ${await res.text()}`);
}

/** A bare Fastify route answering `body` on every path. */
export async function startBaseline(body: string): Promise<Running> {
  const port = await freePort();
  const file = join(work, `baseline-${port}.json`);
  writeFileSync(file, body);
  // The baseline answers on /healthz too (every path), which is how startProcess sees it is up.
  return startProcess([join(ROOT, "bench", "baseline-server.ts"), String(port), file], {}, port);
}

/** Load on `url`; with `paths`, the requests go to each of them in turn instead of the url's own path. */
export function load(
  url: string,
  options: { method?: "GET" | "POST"; body?: string; seconds?: number; paths?: string[] } = {},
): Promise<Load> {
  const { paths } = options;
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: options.seconds ?? DURATION,
        headers: AUTH,
        method: options.method ?? "GET",
        body: options.body,
        ...(paths?.length
          ? { requests: [{ setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) }] }
          : {}),
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          errors: result.non2xx + result.errors,
        });
      },
    );
  });
}

export function rssMiB(pid: number | undefined): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** CPU seconds (user and system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name, which is in parentheses and may hold spaces: utime and stime are the
  // 14th and 15th fields of the line, in clock ticks (100 a second on Linux).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A new empty database of the backend: a file under the scratch folder, or a PostgreSQL database made anew. */
export async function freshDatabase(backend: string, name: string): Promise<string> {
  if (backend === "sqlite" || !POSTGRES) return join(work, `${name}.db`);
  const admin = new pg.Client({ connectionString: POSTGRES });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Seeds `size` servers; returns the ids of the bench account's. */
export async function seed(databaseUrl: string, size: number): Promise<number[]> {
  const database = await openDatabase(databaseUrl);
  try {
    return await seedServers(database.db, size);
  } finally {
    await database.close();
  }
}

/** Operations per second through the engine with `count` servers changing state at once. */
export async function engineThroughput(
  backend: string,
  count: number,
  nodeFlags: string[] = [],
): Promise<number> {
  const databaseUrl = await freshDatabase(backend, "vps_bench_engine");
  await seed(databaseUrl, count);
  const service = await startService(
    databaseUrl,
    { VPS_POLL_MS: "20", VPS_WORKER_CONCURRENCY: "64" },
    nodeFlags,
  );
  const database = await openDatabase(databaseUrl);
  try {
    const now = new Date().toISOString();
    // Every server at once: the active ones stop, the stopped ones start, all committed in one transaction.
    await database.db.transaction().execute(async (tx) => {
      const servers = await tx.selectFrom("servers").select(["id", "account_id", "status"]).execute();
      await tx.updateTable("servers").set({ status: "stopping" }).where("status", "=", "active").execute();
      await tx.updateTable("servers").set({ status: "starting" }).where("status", "=", "stopped").execute();
      for (let i = 0; i < servers.length; i += 500) {
        await tx
          .insertInto("operations")
          .values(
            servers.slice(i, i + 500).map((s) => ({
              server_id: s.id,
              account_id: s.account_id,
              kind: s.status === "active" ? "stop" : "start",
              status: "pending",
              attempts: 0,
              max_attempts: 5,
              run_after: now,
              created_at: now,
              updated_at: now,
            })),
          )
          .execute();
      }
    });
    const started = performance.now();
    await until(async () => {
      const row = await database.db
        .selectFrom("operations")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("status", "in", ["pending", "running"])
        .executeTakeFirstOrThrow();
      return Number(row.n) === 0;
    }, 600_000);
    return count / ((performance.now() - started) / 1000);
  } finally {
    await database.close();
    await service.stop();
  }
}
