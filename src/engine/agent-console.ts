import { once } from "node:events";
import type { Duplex } from "node:stream";
import { createWebSocketStream, WebSocket } from "ws";

/** What the agent answered instead of its console: its status and error code. */
export class AgentConsoleRefused extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, code: string | undefined) {
    super(`the host agent refused the console (${status}${code ? ` ${code}` : ""})`);
    this.status = status;
    this.code = code;
  }
}

/**
 * Opens a machine's console on its host agent: a WebSocket to the agent's transfer URL (`/consoles/{server id}`),
 * with the single-use console grant as its Bearer token. The console's bytes, both ways, as a stream.
 */
export async function connectAgentConsole(
  transferUrl: string,
  serverId: number,
  grant: string,
  timeoutMs: number,
): Promise<Duplex> {
  const url = `${transferUrl.replace(/^http/, "ws")}/consoles/${serverId}`;
  const socket = new WebSocket(url, {
    headers: { authorization: `Bearer ${grant}` },
    handshakeTimeout: timeoutMs,
    maxPayload: 1 << 20,
  });
  const refused = new Promise<never>((_, reject) => {
    socket.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        let code: string | undefined;
        try {
          code = JSON.parse(Buffer.concat(chunks).toString("utf8"))?.error?.code;
        } catch {}
        reject(new AgentConsoleRefused(res.statusCode ?? 0, code));
        socket.terminate();
      });
    });
  });
  // The stream listens from the start: the agent writes the console's first bytes (a login prompt) right after the
  // upgrade, and a message arriving before a listener is attached would be lost.
  const stream = createWebSocketStream(socket);
  // Its errors are the relay's to handle once it is attached; until then, a refused upgrade must not crash the process.
  stream.on("error", () => {});
  try {
    await Promise.race([once(socket, "open"), refused]);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  return stream;
}
