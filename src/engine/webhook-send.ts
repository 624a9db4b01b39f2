import type { LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

/** How much of a response's body is kept with its attempt. */
export const RESPONSE_EXCERPT_BYTES = 1024;

export interface SendResult {
  statusCode: number | null;
  excerpt: string | null;
  error: string | null;
}

/**
 * POSTs `body` to `url`, connecting to `address` (checked already) rather than resolving the name again; the Host
 * header and TLS server name stay the URL's. Redirects are not followed. Never throws: a failure is `error`.
 */
export function sendWebhook(
  url: URL,
  address: { address: string; family: 4 | 6 },
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SendResult> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = send(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        // Pinned: the address that was checked, whatever a new lookup would say now.
        lookup: (_host, options, callback) => {
          const found: LookupAddress = { address: address.address, family: address.family };
          if ((options as { all?: boolean }).all)
            (callback as (e: null, a: LookupAddress[]) => void)(null, [found]);
          else callback(null, found.address, found.family);
        },
        agent: false,
      },
      (res) =>
        readExcerpt(res).then((excerpt) =>
          done({ statusCode: res.statusCode ?? null, excerpt, error: null }),
        ),
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on("error", (err) => done({ statusCode: null, excerpt: null, error: err.message.slice(0, 500) }));
    req.end(body);
  });
}

/** The start of the body, at most RESPONSE_EXCERPT_BYTES; the rest is not waited for. */
function readExcerpt(res: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      res.removeAllListeners("data");
      const text = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString("utf8");
      resolve(text === "" ? null : text);
    };
    res.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_EXCERPT_BYTES) {
        finish();
        res.destroy();
      }
    });
    res.on("end", finish);
    res.on("error", finish);
  });
}
