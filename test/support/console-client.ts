// A serial console's client for tests: a real WebSocket (the `ws` package) to the URL a ticket names.
import { WebSocket } from "ws";
import type { Json } from "./client.ts";

export interface ConsoleClient {
  /** Everything the console has written so far, as text. */
  readonly screen: string;
  /** Waits until the screen matches `pattern` (after `from` characters), and answers the screen. */
  until(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  type(text: string): void;
  /** Resolves with the close code once the server closes the console (or it was closed here). */
  readonly closed: Promise<number>;
  close(): void;
}

/** Connects to a console's WebSocket URL; fails with the HTTP refusal when the upgrade is refused. */
export async function openConsole(url: string): Promise<ConsoleClient> {
  const socket = new WebSocket(url);
  let screen = "";
  const waiters = new Set<() => void>();
  socket.on("message", (data: Buffer) => {
    screen += data.toString("utf8");
    for (const wake of waiters) wake();
  });
  const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      res.on("end", () => reject(new ConsoleRefused(res.statusCode ?? 0, body)));
    });
  });
  return {
    get screen() {
      return screen;
    },
    until(pattern, timeoutMs = 30_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(screen.slice(from))) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(screen);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const tail = JSON.stringify(screen.slice(-2000));
          reject(new Error(`the console never showed ${pattern}; it ended with: ${tail}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    type(text) {
      socket.send(text);
    },
    closed,
    close() {
      socket.close();
    },
  };
}

/** The HTTP answer that refused a console's upgrade. */
export class ConsoleRefused extends Error {
  readonly status: number;
  readonly body: Json;
  constructor(status: number, text: string) {
    super(`the console was refused: ${status} ${text}`);
    this.status = status;
    try {
      this.body = JSON.parse(text);
    } catch {
      this.body = undefined;
    }
  }
}

/** The refusal of a console's upgrade: its status and error code (fails if the console opened). */
export async function refusal(url: string): Promise<{ status: number; code: string | undefined }> {
  try {
    const console = await openConsole(url);
    console.close();
  } catch (err) {
    if (err instanceof ConsoleRefused) return { status: err.status, code: err.body?.error?.code };
    throw err;
  }
  throw new Error("the console opened");
}
