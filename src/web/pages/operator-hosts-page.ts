import { presentHost } from "../../api/presenters/present-host.ts";
import type { Resource } from "../../domain/host-capacity.ts";
import type { Host } from "../../services/host-service.ts";
import type { NotMigrated } from "../../services/migration-service.ts";
import { type Html, html } from "../html.ts";
import type { PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { csrfField, operatorLayout } from "./operator-frame.ts";
import { pager } from "./pager.ts";

const SECTION = "/admin/hosts";

const RESOURCES: [Resource, string][] = [
  ["vcpus", "vCPUs"],
  ["memory_mb", "Memory (MB)"],
  ["disk_gb", "Disk (GB)"],
];

/** What a drain did: how many migrations it asked for, and the servers it could not move now. */
export interface DrainResult {
  host: Host;
  queued: number;
  refused: NotMigrated[];
}

function drainResult(result: DrainResult | undefined): Html {
  if (!result) return html``;
  const { host, queued, refused } = result;
  return html`<section class="card notice" role="status" aria-labelledby="drain-heading">
  <h2 id="drain-heading">${host.name} is draining</h2>
  <p>${queued === 1 ? "1 server is" : `${queued} servers are`} being migrated to other hosts.</p>
  ${
    refused.length > 0
      ? html`<p>Not moved now (draining again retries them):</p>
  <ul class="refused">${refused.map(
    (r) => html`<li>Server ${r.serverId}: ${r.message} <code class="code">${r.code}</code></li>`,
  )}</ul>`
      : ""
  }
</section>`;
}

function stateButtons(csrf: string, host: Host): Html {
  const actions: [string, string, string][] = [
    ["enable", "Enable", "enabled"],
    ["disable", "Disable", "disabled"],
    ["drain", "Drain", "draining"],
  ];
  return html`<div class="actions">${actions
    .filter(([, , state]) => state !== host.state)
    .map(
      ([verb, label]) => html`<form method="post" action="${SECTION}/${host.id}/${verb}">
    ${csrfField(csrf)}
    <button type="submit"${verb === "drain" ? html` class="danger"` : ""} aria-label="${label} ${host.name}">${label}</button>
  </form>`,
    )}</div>`;
}

function hostCard(csrf: string, host: Host): Html {
  const shown = presentHost(host);
  return html`<section class="card host" data-host-id="${host.id}" aria-labelledby="host-${host.id}">
  <h2 id="host-${host.id}">${host.name} <span class="status status-${shown.state}" data-state="${shown.state}">${shown.state}</span></h2>
  <p class="hint">${host.location} · ${host.server_count === 1 ? "1 server" : `${host.server_count} servers`} · last heard ${host.last_heartbeat_at ? when(host.last_heartbeat_at) : "never"}${host.driver ? ` · ${host.driver} driver` : ""}${host.agent_version ? `, agent ${host.agent_version}` : ""}</p>
  <div class="table-wrap">
  <table class="capacity">
    <caption class="visually-hidden">Capacity of ${host.name}</caption>
    <thead><tr><th scope="col">Resource</th><th scope="col">Capacity</th><th scope="col">Allocated</th><th scope="col">Free</th></tr></thead>
    <tbody>${RESOURCES.map(
      ([r, label]) => html`<tr>
      <th scope="row">${label}</th>
      <td class="number">${shown.capacity[r]}${shown.reserved[r] ? ` (${shown.reserved[r]} reserved)` : ""} × ${shown.allocation_ratios[r]}</td>
      <td class="number">${shown.allocated[r]}</td>
      <td class="number" data-free="${r}">${shown.free[r]}</td>
    </tr>`,
    )}</tbody>
  </table>
  </div>
  ${stateButtons(csrf, host)}
</section>`;
}

export function operatorHostsPage(
  frame: PageFrame,
  list: { hosts: Host[]; count: number; page: number; pageSize: number },
  drained?: DrainResult,
): Html {
  return operatorLayout(
    frame,
    SECTION,
    "Hosts",
    html`<h1>Hosts</h1>
${drainResult(drained)}
<p class="hint">Enabled hosts take new servers while they are up; disabled ones keep theirs and take none; draining migrates each of its servers to another host. Capacity is what the host reports, less what is reserved, times the allocation ratio.</p>
${list.hosts.length === 0 ? html`<p class="card empty">No hosts yet. Register one with the admin API: <code>POST /api/v1/admin/hosts/</code>.</p>` : list.hosts.map((h) => hostCard(frame.csrf, h))}
${pager(SECTION, list.page, list.pageSize, list.count)}`,
  );
}
