import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Duplex, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import type { Driver } from "../drivers/driver.ts";

export interface DiskTransferServerOptions {
  /** `host:port` to listen on; also what the agent advertises. */
  address: string;
  driver: Driver;
  log: Logger;
  /** The control plane's check of a token: spent once; the disk's size and checksum, or undefined if refused. */
  spend: (serverId: number, token: string) => Promise<{ size: number; sha256: string } | undefined>;
  /** Who answers the listener's HTTP upgrades (the serial consoles); none: every upgrade is refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * Where a host agent serves the disks of its migrating servers: `GET /transfers/{server id}` with the single-use
 * transfer token the control plane gave the target (`Authorization: Bearer`). The token is spent at the control
 * plane before a byte is sent; the disk goes out only if it is still the one whose checksum the migration recorded.
 */
export class DiskTransferServer {
  readonly #o: DiskTransferServerOptions;
  readonly #server: Server;

  constructor(options: DiskTransferServerOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#serve(req, res).catch((err) => {
        this.#o.log.warn({ err }, "disk transfer failed");
        if (!res.headersSent) answer(res, 500, "transfer_failed", "The disk could not be sent.");
        else res.destroy();
      });
    });
    this.#server.on("upgrade", (req, socket, head) => {
      if (options.upgrade) options.upgrade(req, socket, head);
      else socket.destroy();
    });
  }

  /** The URL targets fetch from. */
  get url(): string {
    const address = this.#server.address() as AddressInfo | null;
    const [host] = splitAddress(this.#o.address);
    return `http://${host}:${address?.port ?? splitAddress(this.#o.address)[1]}`;
  }

  async listen(): Promise<void> {
    const [host, port] = splitAddress(this.#o.address);
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host.replace(/^\[|\]$/g, ""), () => resolve());
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/transfers\/([1-9]\d{0,15})$/.exec(req.url ?? "");
    if (req.method !== "GET" || !match?.[1]) return answer(res, 404, "not_found", "Not found.");
    const serverId = Number(match[1]);
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const granted = token ? await this.#o.spend(serverId, token) : undefined;
    if (!granted) {
      return answer(
        res,
        403,
        "transfer_token_invalid",
        "The transfer token is unknown, already used, or void.",
      );
    }
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    const call = { signal: controller.signal, log: this.#o.log };
    const disk = await this.#o.driver.exportDisk(String(serverId), call);
    if (disk.sha256 !== granted.sha256 || disk.size !== granted.size) {
      return answer(res, 409, "disk_changed", "The disk is no longer the one the migration recorded.");
    }
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(disk.size),
      "X-Disk-Sha256": disk.sha256,
    });
    await pipeline(Readable.from(disk.read()), res);
    this.#o.log.info({ server: serverId, bytes: disk.size }, "disk sent to a migration's target");
  }
}

function answer(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ error: { code, message } }));
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
