import { type Html, html } from "./html.ts";

/** A timestamp as pages show it: to the minute, in UTC, machine-readable in `datetime`. */
export function when(iso: string): Html {
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}
