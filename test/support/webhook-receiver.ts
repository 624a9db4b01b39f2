import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * A real HTTP receiver on 127.0.0.1 that keeps every request it gets. `answer` decides each request's status
 * (200 unless told); a status of 0 holds the request open without answering.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (hook: ReceivedWebhook, index: number) => number = () => 200;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on("request", (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const hook = { path: req.url ?? "", headers: req.headers, body, json: JSON.parse(body) };
        receiver.received.push(hook);
        const status = receiver.answer(hook, receiver.received.length - 1);
        if (status === 0) return;
        res.writeHead(status, { "content-type": "text/plain" }).end(`answered ${status}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  url(path = "/hooks"): string {
    const address = this.#server.address();
    if (!address || typeof address === "string") throw new Error("not listening");
    return `http://127.0.0.1:${address.port}${path}`;
  }

  to(path: string): ReceivedWebhook[] {
    return this.received.filter((h) => h.path === path);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Checks a webhook's signature as a receiver would, written from the Standard Webhooks specification rather than
 * with the service's code: HMAC-SHA256 keyed with the secret's base64 bytes over "id.timestamp.body".
 */
export function signatureVerifies(secret: string, hook: ReceivedWebhook): boolean {
  const id = String(hook.headers["webhook-id"]);
  const timestamp = String(hook.headers["webhook-timestamp"]);
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${hook.body}`).digest("base64");
  const signatures = String(hook.headers["webhook-signature"]).split(" ");
  return signatures.some((s) => s === `v1,${expected}`);
}
