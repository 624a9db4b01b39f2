import type { ServerSummary } from "../../db/repositories/server-repository.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";

/** How often the table asks for its rows again while the page is open. */
const REFRESH = "every 2s";

export function serversPage(frame: PageFrame, servers: ServerSummary[], count: number): Html {
  return layout(
    { ...frame, title: "Servers", current: "/servers" },
    html`<div class="page-head">
<h1>Servers</h1>
<a class="button" href="/servers/new">Create server</a>
</div>
<div class="table-wrap">
<table class="servers">
  <caption class="visually-hidden">Your servers; statuses update by themselves</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">IP address</th><th scope="col">Plan</th><th scope="col">Location</th></tr></thead>
  ${serverRows(servers, count)}
</table>
</div>`,
  );
}

/** The table's body, which replaces itself with a fresh copy every few seconds (htmx polling). */
export function serverRows(servers: ServerSummary[], count: number): Html {
  return html`<tbody id="server-rows" hx-get="/servers/rows" hx-trigger="${REFRESH}" hx-swap="outerHTML" aria-live="polite">
  ${
    servers.length === 0
      ? html`<tr><td colspan="5" class="empty">No servers yet. <a href="/servers/new">Create one</a>, or use the API: <code>POST /api/v1/servers/</code>.</td></tr>`
      : servers.map(
          (s) => html`<tr data-server-id="${s.id}">
    <th scope="row"><a href="/servers/${s.id}">${s.name}</a></th>
    <td><span class="status status-${s.status}" data-status="${s.status}">${s.status}</span></td>
    <td>${s.ipv4 ?? "—"}</td>
    <td>${s.plan_name}</td>
    <td>${s.location}</td>
  </tr>`,
        )
  }
  ${count > servers.length ? html`<tr><td colspan="5" class="hint">Showing ${servers.length} of ${count}.</td></tr>` : ""}
</tbody>`;
}
