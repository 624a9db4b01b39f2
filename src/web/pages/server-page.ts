import type { presentAction } from "../../api/presenters/present-action.ts";
import type { presentServerDetail } from "../../api/presenters/present-server.ts";
import type { PlanWithLocations } from "../../db/repositories/catalogue-repository.ts";
import type { ImageRow, OsRow } from "../../db/schema.ts";
import type { AppError } from "../../domain/errors.ts";
import { LIFECYCLE, type PowerAction } from "../../domain/lifecycle.ts";
import type { StoredServerStatus } from "../../domain/server-status.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";
import { type LivePart, livePart } from "../live-part.ts";
import { diskSourceOptions } from "./disk-source-options.ts";
import { errorAlert } from "./error-alert.ts";
import { planLabel } from "./new-server-page.ts";

export type ServerView = ReturnType<typeof presentServerDetail>;
export type ActionView = ReturnType<typeof presentAction>;

/** How often the server's status and its images ask for themselves again; an action's progress, faster. */
const REFRESH = "2s";
const PROGRESS_REFRESH = "1s";
const POWER: { action: PowerAction; label: string }[] = [
  { action: "start", label: "Start" },
  { action: "stop", label: "Stop" },
  { action: "reboot", label: "Reboot" },
];

export interface ServerPageData {
  server: ServerView;
  /** This server's backups and snapshots. */
  images: ImageRow[];
  /** The account's images, any server's, to rebuild from. */
  rebuildImages: ImageRow[];
  systems: OsRow[];
  /** Plans offered in the server's location, for a resize. */
  plans: PlanWithLocations[];
  currency: string;
  backupPercent: number;
  /** The action this page was opened to follow (a power button's, a snapshot's...). */
  action?: ActionView;
  error?: AppError;
}

function when(iso: string): Html {
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace("T", " ")} UTC</time>`;
}

function status(value: string): Html {
  return html`<span class="status status-${value}" data-status="${value}">${value}</span>`;
}

/** The part that follows the server: status, addresses, SSH and the power buttons its status allows. */
export function serverLive(server: ServerView, csrf: string): LivePart {
  return {
    id: "server-live",
    url: `/servers/${server.id}/live`,
    every: REFRESH,
    content: serverLiveContent(server, csrf),
  };
}

function serverLiveContent(server: ServerView, csrf: string): Html {
  const ssh = server.ssh ? `ssh root@${server.ssh.host} -p ${server.ssh.port}` : undefined;
  return html`<dl class="facts" aria-live="polite">
  <dt>Status</dt><dd>${status(server.status)}</dd>
  <dt>IPv4</dt><dd>${server.ip_address ?? "—"}</dd>
  <dt>IPv6</dt><dd>${server.ipv6_address ?? "—"}</dd>
  <dt>SSH</dt><dd>${ssh ? html`<code class="copy" data-ssh>${ssh}</code>` : "—"}</dd>
</dl>
<form method="post" action="/servers/${server.id}/power" class="buttons">
  ${csrfField(csrf)}
  ${POWER.map(({ action, label }) => {
    const allowed = (LIFECYCLE[action].from as readonly StoredServerStatus[]).includes(server.status);
    return html`<button type="submit" name="action" value="${action}"${allowed ? "" : html` disabled`}>${label}</button>`;
  })}
</form>`;
}

/** What an action is called on the page. */
const COMMAND_NAMES: Partial<Record<string, string>> = {
  create: "Create",
  start: "Start",
  stop: "Stop",
  reboot: "Reboot",
  create_image: "Snapshot",
  backup: "Backup",
  rebuild: "Rebuild",
  resize: "Resize",
  migrate: "Migration",
};

/** An action's progress, asking for itself again until the action has ended. */
export function actionProgress(serverId: number, action: ActionView): Html {
  const running = action.status === "running";
  const what = COMMAND_NAMES[action.command] ?? action.command;
  const text = running
    ? html`${what}: under way`
    : action.status === "success"
      ? html`${what}: done`
      : html`${what} failed: ${action.error?.message ?? "the action failed"} <code class="code">${action.error?.code ?? "failed"}</code>`;
  const polling = running
    ? html` hx-get="/servers/${serverId}/actions/${action.id}" hx-trigger="every ${PROGRESS_REFRESH}" hx-swap="outerHTML"`
    : "";
  return html`<div id="action" class="action action-${action.status}" role="status" data-action-status="${action.status}"${polling}>
  <span>${text}</span>
  ${running || action.status === "success" ? html`<progress max="100" value="${action.progress ?? 0}">${action.progress ?? 0}%</progress>` : ""}
</div>`;
}

/** The server's backups and snapshots, asking for themselves again (a snapshot becomes available). */
export function serverImages(serverId: number, images: ImageRow[], csrf: string): LivePart {
  return {
    id: "server-images",
    url: `/servers/${serverId}/images`,
    every: REFRESH,
    content: imagesContent(serverId, images, csrf),
  };
}

function bytes(size: number | string | null): string {
  if (size === null) return "—";
  const n = Number(size);
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function imagesContent(serverId: number, images: ImageRow[], csrf: string): Html {
  if (images.length === 0) return html`<p class="hint">No backups or snapshots of this server yet.</p>`;
  return html`<div class="table-wrap">
<table class="images">
  <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Consistency</th><th scope="col">Size</th><th scope="col">Taken</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead>
  <tbody>
  ${images.map(
    (image) => html`<tr data-image-id="${image.id}">
    <th scope="row">${image.name ?? `${image.type} ${image.id}`}</th>
    <td>${image.type}</td>
    <td><span class="status status-image-${image.status}" data-image-status="${image.status}">${image.status}</span></td>
    <td>${image.consistency ?? "—"}</td>
    <td>${bytes(image.size_bytes)}</td>
    <td>${when(image.created_at)}</td>
    <td>${
      image.status === "creating"
        ? ""
        : html`<form method="post" action="/servers/${serverId}/images/${image.id}/delete" class="inline">
      <input type="hidden" name="_csrf" value="${csrf}">
      <button type="submit" class="danger small" aria-label="Delete ${image.name ?? `${image.type} ${image.id}`}">Delete</button>
    </form>`
    }</td>
  </tr>`,
  )}
  </tbody>
</table>
</div>`;
}

function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

export function serverPage(frame: PageFrame, data: ServerPageData): Html {
  const { server } = data;
  const { csrf } = frame;
  const plan = server.plan;
  const otherPlans = data.plans.filter((p) => p.id !== plan.id);
  return layout(
    { ...frame, title: server.name, current: "/servers" },
    html`<p class="crumbs"><a href="/servers">Servers</a></p>
<h1>${server.name}</h1>
<nav aria-label="This server"><ul class="server-links">
  <li><a href="/servers/${server.id}/console">Serial console</a></li>
  <li><a href="/servers/${server.id}/graphs">Usage graphs</a></li>
</ul></nav>
${errorAlert(data.error)}
${data.action ? actionProgress(server.id, data.action) : ""}
<section class="card" aria-labelledby="state-heading">
  <h2 id="state-heading">State</h2>
  ${livePart(serverLive(server, csrf))}
</section>
<section class="card" aria-labelledby="details-heading">
  <h2 id="details-heading">Details</h2>
  <dl class="facts">
    <dt>Plan</dt><dd>${plan.name}: ${plan.vcpus} vCPU, ${plan.memory / 1024} GB RAM, ${plan.storage} GB disk, ${plan.bandwidth} GB traffic</dd>
    <dt>Location</dt><dd>${server.location}</dd>
    <dt>Operating system</dt><dd>${server.os.name}</dd>
    <dt>Hostname</dt><dd>${server.hostname ?? "—"}</dd>
    <dt>Created</dt><dd>${when(server.created_at)}</dd>
    <dt>Backups</dt><dd>${server.backups_enabled ? "on" : "off"}</dd>
  </dl>
</section>
<section class="card" aria-labelledby="settings-heading">
  <h2 id="settings-heading">Settings</h2>
  <form method="post" action="/servers/${server.id}/rename" class="row">
    ${csrfField(csrf)}
    <div class="grow">
      <label for="rename">Name</label>
      <input id="rename" name="name" type="text" required maxlength="63" value="${server.name}">
    </div>
    <button type="submit">Rename</button>
  </form>
  <form method="post" action="/servers/${server.id}/backups">
    ${csrfField(csrf)}
    <input type="hidden" name="backups" value="${server.backups_enabled ? "off" : "on"}">
    <p>Daily backups are <strong>${server.backups_enabled ? "on" : "off"}</strong>. ${
      server.backups_enabled
        ? "Turning them off deletes this server's backups."
        : `They add ${data.backupPercent}% to the plan's price.`
    }</p>
    <button type="submit"${server.backups_enabled ? html` class="danger"` : ""}>${server.backups_enabled ? "Turn backups off" : "Turn backups on"}</button>
  </form>
</section>
<section class="card" aria-labelledby="images-heading">
  <h2 id="images-heading">Backups and snapshots</h2>
  ${livePart(serverImages(server.id, data.images, csrf))}
  <form method="post" action="/servers/${server.id}/snapshots" class="row">
    ${csrfField(csrf)}
    <div class="grow">
      <label for="snapshot-name">Snapshot name</label>
      <input id="snapshot-name" name="name" type="text" maxlength="100" placeholder="before-upgrade">
    </div>
    <button type="submit">Take a snapshot</button>
  </form>
</section>
<section class="card" aria-labelledby="rebuild-heading">
  <h2 id="rebuild-heading">Rebuild</h2>
  <p>Replaces the disk with a fresh operating system or one of your images; the server keeps its addresses and plan.</p>
  <form method="post" action="/servers/${server.id}/rebuild">
    ${csrfField(csrf)}
    <label for="rebuild-source">Rebuild from</label>
    <select id="rebuild-source" name="source" required>${diskSourceOptions(data.systems, data.rebuildImages, `os:${server.os.id}`)}</select>
    <div class="check">
      <input id="rebuild-confirm" name="confirm" type="checkbox" value="yes" required>
      <label for="rebuild-confirm">I understand that everything on the server's disk is erased.</label>
    </div>
    <button type="submit" class="danger">Rebuild</button>
  </form>
</section>
<section class="card" aria-labelledby="resize-heading">
  <h2 id="resize-heading">Resize</h2>
  <p>Stop the server first. Its disk can only grow.</p>
  ${
    otherPlans.length === 0
      ? html`<p class="hint">No other plan is offered in ${server.location}.</p>`
      : html`<form method="post" action="/servers/${server.id}/resize">
    ${csrfField(csrf)}
    <label for="resize-plan">New plan</label>
    <select id="resize-plan" name="plan_id" required>${otherPlans.map(
      (p) => html`<option value="${p.id}">${planLabel(p, data.currency, data.backupPercent)}</option>`,
    )}</select>
    <button type="submit">Resize</button>
  </form>`
  }
</section>
<section class="card danger-zone" aria-labelledby="destroy-heading">
  <h2 id="destroy-heading">Destroy</h2>
  <p>Destroys the server and its backups at once; its snapshots stay. This cannot be undone.</p>
  <form method="post" action="/servers/${server.id}/destroy">
    ${csrfField(csrf)}
    <label for="confirm-name">Type <strong>${server.name}</strong> to confirm</label>
    <input id="confirm-name" name="confirm_name" type="text" required autocomplete="off" spellcheck="false">
    <button type="submit" class="danger">Destroy this server</button>
  </form>
</section>`,
  );
}
