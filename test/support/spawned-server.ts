import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

const ROOT = join(import.meta.dirname, "..", "..");

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  /** JSON log lines the process has written so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** What the process wrote to stderr so far (tokens shown on first start go there, not to the log). */
  stderr(): string;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Runs the service as a user would (`node src/main.ts`), as a separate process, and waits until it is ready. */
export async function spawnServer(env: Record<string, string>, port?: number): Promise<SpawnedServer> {
  const listenPort = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", join(ROOT, "src", "main.ts")],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: "info", PORT: String(listenPort), HOST: "127.0.0.1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: Record<string, unknown>[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    logs.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`process exited before the log line; stderr: ${stderr}`));
      });
    });
  };
  try {
    await waitForLog((l) => l.msg === "ready");
  } catch (err) {
    // A process that never became ready must not outlive the test that started it.
    child.kill("SIGKILL");
    throw err;
  }
  return { url: `http://127.0.0.1:${listenPort}`, child, logs, waitForLog, exited, stderr: () => stderr };
}
