// Several real service processes (`node src/main.ts`) on one database, for tests about crashes and
// contention: kill one with SIGKILL, restart it on the same port, send requests that fail over to another
// process, and clean up every process, database and folder afterwards even when the test failed.
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import type { OpenDatabase } from "../../src/db/database.ts";
import type { Json } from "./client.ts";
import { freePort, type SpawnedServer, spawnServer } from "./spawned-server.ts";
import { dropDatabase, freshDatabaseUrl, inspectDatabase, POSTGRES_SERVER_URL } from "./test-database.ts";

export type Backend = "postgres" | "sqlite";

/**
 * How a PostgreSQL-only suite runs: skipped with this reason when no server is configured, unless
 * VPS_REQUIRE_POSTGRES=1 (CI), where the suite runs and its `before` fails through `requirePostgres()`.
 */
export const POSTGRES_SKIP: string | false =
  POSTGRES_SERVER_URL || process.env.VPS_REQUIRE_POSTGRES === "1"
    ? false
    : "VPS_TEST_POSTGRES_URL is not set (a PostgreSQL server URL whose user may create databases); " +
      "set VPS_REQUIRE_POSTGRES=1 to make this a failure instead of a skip";

export function requirePostgres(): void {
  if (!POSTGRES_SERVER_URL) {
    throw new Error("VPS_REQUIRE_POSTGRES=1 but VPS_TEST_POSTGRES_URL is not set");
  }
}

/** What became of a request sent to the cluster. */
export type Outcome =
  /** A process answered. */
  | { kind: "response"; status: number; body: Json; slot: number }
  /** Sent, but the answer was lost (the process died, the connection broke): it may or may not have been applied. */
  | { kind: "unknown"; error: string; slot: number }
  /** No process could be reached before the deadline: the request was never received, so it was not applied. */
  | { kind: "unreachable"; error: string };

const everyChild = new Set<ChildProcess>();
// Last resort if the test runner exits without running `after` hooks: no service process outlives it.
process.once("exit", () => {
  for (const child of everyChild)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export class ProcessCluster {
  readonly backend: Backend;
  readonly size: number;
  readonly dir: string;
  /** Marks this cluster's processes, so a process whose start timed out can still be found and killed. */
  readonly marker = randomBytes(8).toString("hex");
  env: Record<string, string> = {};
  databaseUrl = "";
  ports: number[] = [];
  inspect: OpenDatabase | undefined;
  kills = 0;
  readonly #processes: (SpawnedServer | undefined)[];
  readonly #baseEnv: Record<string, string>;
  readonly #spawning = new Set<Promise<unknown>>();
  #closed = false;

  /** Makes the folder at once, so that `close()` in an `after` hook has something to clean even if `boot()` fails. */
  constructor(backend: Backend, size: number, env: Record<string, string>) {
    this.backend = backend;
    this.size = size;
    this.#baseEnv = env;
    this.#processes = Array.from({ length: size }, () => undefined);
    this.dir = mkdtempSync(join(tmpdir(), `vps-cluster-${backend}-`));
  }

  get urls(): string[] {
    return this.ports.map((port) => `http://127.0.0.1:${port}`);
  }

  get db(): OpenDatabase["db"] {
    if (!this.inspect) throw new Error("the cluster has not booted");
    return this.inspect.db;
  }

  process(slot: number): SpawnedServer | undefined {
    return this.#processes[slot];
  }

  /** A fresh database; the first process migrates it and makes the first account, then the others start. */
  async boot(): Promise<void> {
    if (this.backend === "postgres") {
      requirePostgres();
      this.databaseUrl = await freshDatabaseUrl(this.dir);
    } else {
      // Not freshDatabaseUrl: that gives PostgreSQL whenever VPS_TEST_POSTGRES_URL is set.
      this.databaseUrl = join(this.dir, "vps.db");
    }
    this.env = {
      VPS_RATE_LIMIT_READS: "100000",
      VPS_RATE_LIMIT_WRITES: "100000",
      VPS_AUTH_FAILURE_LIMIT: "100000",
      ...this.#baseEnv,
      DATABASE_URL: this.databaseUrl,
      VPS_TEST_CLUSTER: this.marker,
    };
    for (let i = 0; i < this.size; i++) this.ports.push(await freePort());
    await this.restart(0);
    await Promise.all(this.ports.slice(1).map((_, i) => this.restart(i + 1)));
    this.inspect = await inspectDatabase(this.databaseUrl);
  }

  isUp(slot: number): boolean {
    return this.#processes[slot] !== undefined;
  }

  /** SIGKILL: no shutdown hook runs, in-flight requests and operations are cut off where they are. */
  async kill(slot: number): Promise<void> {
    const running = this.#processes[slot];
    if (!running) return;
    this.#processes[slot] = undefined;
    running.child.kill("SIGKILL");
    await running.exited;
    everyChild.delete(running.child);
    this.kills++;
  }

  /** Starts the slot's process again on the same port and waits until it is ready. */
  async restart(slot: number): Promise<SpawnedServer> {
    if (this.#closed) throw new Error("the cluster is closed");
    const port = this.ports[slot];
    if (port === undefined) throw new Error(`no slot ${slot}`);
    const spawning = spawnServer(this.env, port);
    this.#spawning.add(spawning);
    try {
      const started = await spawning;
      everyChild.add(started.child);
      this.#processes[slot] = started;
      if (this.#closed) started.child.kill("SIGKILL");
      return started;
    } finally {
      this.#spawning.delete(spawning);
    }
  }

  async ensureAllUp(): Promise<void> {
    await Promise.all(this.ports.map((_, slot) => (this.isUp(slot) ? undefined : this.restart(slot))));
  }

  /** Kills every process of the cluster, drops its database and removes its folder; safe to call at any point. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#spawning]);
    for (let slot = 0; slot < this.size; slot++) {
      const running = this.#processes[slot];
      this.#processes[slot] = undefined;
      if (!running) continue;
      if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill("SIGKILL");
      await running.exited;
      everyChild.delete(running.child);
    }
    this.#killStrays();
    await this.inspect?.close().catch(() => undefined);
    if (this.databaseUrl) await dropDatabase(this.databaseUrl);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Children of this process carrying this cluster's marker (a start that timed out leaves one behind). */
  #killStrays(): void {
    let pids: string[];
    try {
      pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
    } catch {
      return;
    }
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid !== process.pid) continue;
        if (!readFileSync(`/proc/${pid}/environ`, "utf8").includes(`VPS_TEST_CLUSTER=${this.marker}`))
          continue;
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // The process ended meanwhile, or /proc is not readable: nothing to do.
      }
    }
  }

  /**
   * Sends a request to the process of `slot` (a random one by default). A process that cannot be reached
   * (connection refused: it is down) never received the request, so the next one is tried, and after a
   * round of failures all of them again a little later, until `deadlineMs`. A connection that breaks after
   * it was established makes the outcome unknown: it is not retried, since it may have been applied.
   */
  async send(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    options: { slot?: number; deadlineMs?: number; timeoutMs?: number } = {},
  ): Promise<Outcome> {
    const deadline = Date.now() + (options.deadlineMs ?? 30_000);
    let slot = options.slot ?? Math.floor(Math.random() * this.size);
    let lastError = "";
    for (;;) {
      for (let tried = 0; tried < this.size; tried++) {
        const url = this.urls[slot] as string;
        const result = await rawRequest(url, method, path, token, body, options.timeoutMs ?? 15_000);
        if (result.kind === "response") return { ...result, slot };
        if (result.kind === "unknown") return { ...result, slot };
        lastError = result.error;
        slot = (slot + 1) % this.size;
      }
      if (Date.now() > deadline) return { kind: "unreachable", error: lastError };
      await sleep(100);
    }
  }
}

type RawResult =
  | { kind: "response"; status: number; body: Json }
  | { kind: "unknown"; error: string }
  | { kind: "refused"; error: string };

/** One request on its own connection (no keep-alive, so a dead process's pooled socket is never reused). */
function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  token: string,
  body: unknown,
  timeoutMs: number,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let connected = false;
    const req = httpRequest(
      `${baseUrl}${path}`,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (err) => resolve({ kind: "unknown", error: `response broken: ${err.message}` }));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: Json;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ kind: "response", status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("socket", (socket) => {
      socket.once("connect", () => {
        connected = true;
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const error = `${err.code ?? ""} ${err.message}`.trim();
      resolve(connected ? { kind: "unknown", error } : { kind: "refused", error });
    });
    req.end(payload);
  });
}

/**
 * A suite whose tests share one cluster of `size` processes on `backend`, booted before them and closed after;
 * `tests` registers the tests and reaches the cluster through the getter it is given.
 */
export function clusterSuite(
  title: string,
  cluster: { backend: Backend; size: number; env: Record<string, string>; skip: string | false },
  tests: (current: () => ProcessCluster) => void,
): void {
  describe(title, { skip: cluster.skip }, () => {
    let running: ProcessCluster | undefined;
    before(async () => {
      running = new ProcessCluster(cluster.backend, cluster.size, cluster.env);
      await running.boot();
    });
    after(async () => {
      await running?.close();
    });
    tests(() => {
      if (!running) throw new Error("the cluster boots in the suite's before hook");
      return running;
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
