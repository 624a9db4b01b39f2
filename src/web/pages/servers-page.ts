import type { ServerSummary } from "../../db/repositories/server-repository.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";
import { type LivePart, livePart } from "../live-part.ts";
import { pager } from "./pager.ts";

/** How often the list asks for its page again while it is open. */
const REFRESH = "2s";

/** One page of the account's servers, as the API pages them. */
export interface ServerListPage {
  servers: ServerSummary[];
  count: number;
  page: number;
  pageSize: number;
  /** The page size the console uses when none is asked for (links leave it out). */
  defaultPageSize: number;
}

export function serversPage(frame: PageFrame, list: ServerListPage): Html {
  return layout(
    { ...frame, title: "Servers", current: "/servers" },
    html`<div class="page-head">
<h1>Servers</h1>
<a class="button" href="/servers/new">Create server</a>
</div>
${livePart(serverList(list))}`,
  );
}

/**
 * The list: where the page is in it, its links to the other pages and the table, a live part that asks every
 * few seconds for the same page (which reads only that page) and is sent again only when it changed.
 */
export function serverList(list: ServerListPage): LivePart {
  const sized: Record<string, number> =
    list.pageSize === list.defaultPageSize ? {} : { page_size: list.pageSize };
  const { servers, count } = list;
  const content = html`${pager("/servers", list.page, list.pageSize, count, sized)}
<div class="table-wrap">
<table class="servers">
  <caption class="visually-hidden">Your servers; statuses update by themselves</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">IP address</th><th scope="col">Plan</th><th scope="col">Location</th></tr></thead>
  <tbody aria-live="polite">
  ${
    count === 0
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
  </tbody>
</table>
</div>`;
  return {
    id: "server-list",
    url: `/servers/rows?page=${list.page}&page_size=${list.pageSize}`,
    every: REFRESH,
    content,
  };
}
