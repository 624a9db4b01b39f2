import type { PlanWithLocations } from "../../db/repositories/catalogue-repository.ts";
import type { ImageRow, LocationRow, OsRow, SshKeyRow } from "../../db/schema.ts";
import type { AppError } from "../../domain/errors.ts";
import { formatMoney } from "../../domain/money.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";
import { diskSourceOptions } from "./disk-source-options.ts";
import { errorAlert } from "./error-alert.ts";

export interface NewServerChoices {
  locations: LocationRow[];
  plans: PlanWithLocations[];
  systems: OsRow[];
  images: ImageRow[];
  sshKeys: SshKeyRow[];
  currency: string;
  /** The backup surcharge, percent of the plan's price. */
  backupPercent: number;
}

/** What the form holds: the visitor's last answers, shown again with the error that refused them. */
export interface NewServerForm {
  name: string;
  hostname: string;
  location: string;
  plan_id: string;
  source: string;
  ssh_key_id: string;
  backups: boolean;
}

export function planLabel(plan: PlanWithLocations, currency: string, backupPercent: number): string {
  const backups = Math.round((plan.price_monthly_minor * backupPercent) / 100);
  return (
    `${plan.name}: ${plan.vcpus} vCPU, ${plan.memory_mb / 1024} GB RAM, ${plan.storage_gb} GB disk, ` +
    `${formatMoney(plan.price_monthly_minor)} ${currency}/month (${formatMoney(plan.price_hourly_minor)}/hour); ` +
    `backups +${formatMoney(backups)}/month`
  );
}

/** The plan select for a location: the plans offered there, with their prices. */
export function planField(
  choices: Pick<NewServerChoices, "plans" | "currency" | "backupPercent">,
  location: string,
  selected: string,
): Html {
  const offered = choices.plans.filter((p) => p.locations.includes(location));
  return html`<div id="plan-field">
  <label for="plan_id">Plan</label>
  <select id="plan_id" name="plan_id" required aria-describedby="plan-hint">
    ${offered.map(
      (p) =>
        html`<option value="${p.id}"${String(p.id) === selected ? html` selected` : ""}>${planLabel(p, choices.currency, choices.backupPercent)}</option>`,
    )}
  </select>
  <p class="hint" id="plan-hint">${offered.length} plan${offered.length === 1 ? "" : "s"} offered in ${location}. Billed by the hour, at most the monthly price a month.</p>
</div>`;
}

export function newServerPage(
  frame: PageFrame,
  choices: NewServerChoices,
  form: NewServerForm,
  error?: AppError,
): Html {
  const needsCredit =
    error?.status === 402
      ? html`<p>Add credit to your account, or choose a smaller plan. <a href="/account">Your balance is on the account page</a>.</p>`
      : undefined;
  return layout(
    { ...frame, title: "Create a server", current: "/servers" },
    html`<p class="crumbs"><a href="/servers">Servers</a></p>
<h1>Create a server</h1>
${errorAlert(error, needsCredit)}
<form method="post" action="/servers/new" class="card stacked">
  <input type="hidden" name="_csrf" value="${frame.csrf}">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" required maxlength="63" value="${form.name}" aria-describedby="name-hint" autofocus>
  <p class="hint" id="name-hint">Letters, digits and hyphens, such as web-01.</p>
  <label for="hostname">Hostname <span class="optional">(optional)</span></label>
  <input id="hostname" name="hostname" type="text" maxlength="253" value="${form.hostname}" placeholder="web01.example.com">
  <label for="location">Location</label>
  <select id="location" name="location" required hx-get="/servers/new/plans" hx-trigger="change" hx-target="#plan-field" hx-swap="outerHTML" hx-include="#plan_id">
    ${choices.locations.map(
      (l) =>
        html`<option value="${l.code}"${l.code === form.location ? html` selected` : ""}>${l.name} (${l.code})</option>`,
    )}
  </select>
  ${planField(choices, form.location, form.plan_id)}
  <label for="source">Operating system or image</label>
  <select id="source" name="source" required>
    ${diskSourceOptions(choices.systems, choices.images, form.source)}
  </select>
  <label for="ssh_key_id">SSH key</label>
  <select id="ssh_key_id" name="ssh_key_id" aria-describedby="ssh-hint">
    <option value="">No key</option>
    ${choices.sshKeys.map(
      (k) =>
        html`<option value="${k.id}"${String(k.id) === form.ssh_key_id ? html` selected` : ""}>${k.name} (${k.fingerprint})</option>`,
    )}
  </select>
  <p class="hint" id="ssh-hint">${choices.sshKeys.length === 0 ? html`You have no SSH keys yet; <a href="/ssh-keys">add one</a>.` : "Installed for root."}</p>
  <div class="check">
    <input id="backups" name="backups" type="checkbox" value="on"${form.backups ? html` checked` : ""} aria-describedby="backups-hint">
    <label for="backups">Daily backups</label>
  </div>
  <p class="hint" id="backups-hint">Adds ${choices.backupPercent}% to the plan's price (shown with each plan above).</p>
  <button type="submit">Create the server</button>
</form>`,
  );
}
