import { hash } from "node:crypto";
import type { FastifyReply } from "fastify";
import { type Html, html } from "./html.ts";
import { sendPage } from "./web-request.ts";

// A part of a page that asks for itself again every few seconds (htmx polling). Its URL carries a digest of what
// it shows; when nothing changed the answer is a 204, which htmx does not swap, so a button in it keeps its focus.

export interface LivePart {
  /** The element's id. */
  id: string;
  /** Where it asks for itself again. */
  url: string;
  /** How often, as htmx says it: "2s". */
  every: string;
  content: Html;
}

function digestOf(content: Html): string {
  return hash("sha256", content.toString(), "hex").slice(0, 16);
}

/** The part: its content in an element that polls its URL and replaces itself with the answer. */
export function livePart(part: LivePart): Html {
  const separator = part.url.includes("?") ? "&" : "?";
  return html`<div id="${part.id}" class="live" hx-get="${part.url}${separator}v=${digestOf(part.content)}" hx-trigger="every ${part.every}" hx-swap="outerHTML">
${part.content}
</div>`;
}

/** Whether the page shows this content already: `shown` is the digest its poll sent. */
export function unchanged(part: LivePart, shown: string | undefined): boolean {
  return shown === digestOf(part.content);
}

/** The part, or a 204 when the page shows it as it is already (htmx then leaves the page alone). */
export function sendLivePart(reply: FastifyReply, part: LivePart, shown: string | undefined): FastifyReply {
  if (unchanged(part, shown)) return reply.status(204).send();
  return sendPage(reply, livePart(part));
}
