import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { WebSocket } from "ws";

/** Past this much unsent, the console is not read until the WebSocket catches up. */
const HIGH_WATER = 1 << 20;

export interface RelayOptions {
  /** A console with no byte either way for this long is closed. */
  idleMs: number;
  log: Pick<Logger, "debug">;
  /** Called once when both ends are closed. */
  onClose?: () => void;
}

/**
 * Joins a WebSocket to a console's byte stream: its messages (text or binary) are written to the console as
 * bytes, and the console's bytes go out as binary messages. When either end closes, or nothing crosses for
 * `idleMs`, both are closed.
 */
export function relayConsole(socket: WebSocket, stream: Duplex, options: RelayOptions): void {
  let idle: NodeJS.Timeout | undefined;
  let closed = false;
  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(idle);
    stream.destroy();
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
      socket.close(code, reason);
    options.onClose?.();
  };
  const active = () => {
    clearTimeout(idle);
    idle = setTimeout(() => close(4000, "idle"), options.idleMs);
    idle.unref?.();
  };
  active();
  socket.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    active();
    stream.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
  });
  stream.on("data", (chunk: Buffer) => {
    active();
    socket.send(chunk, { binary: true }, () => {
      if (stream.isPaused() && socket.bufferedAmount < HIGH_WATER) stream.resume();
    });
    if (socket.bufferedAmount >= HIGH_WATER) stream.pause();
  });
  socket.on("close", () => close(1000, ""));
  socket.on("error", (err) => {
    options.log.debug({ err }, "console WebSocket failed");
    close(1011, "");
  });
  stream.on("end", () => close(1000, "console closed"));
  stream.on("close", () => close(1000, "console closed"));
  stream.on("error", (err) => {
    options.log.debug({ err }, "console stream failed");
    close(1011, "console failed");
  });
}
