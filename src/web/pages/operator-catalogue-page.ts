import type { PlanWithLocations } from "../../db/repositories/catalogue-repository.ts";
import type { LocationRow, OsRow } from "../../db/schema.ts";
import type { AppError } from "../../domain/errors.ts";
import { formatMoney } from "../../domain/money.ts";
import { type Html, html } from "../html.ts";
import type { PageFrame } from "../layout.ts";
import { errorAlert } from "./error-alert.ts";
import { csrfField, operatorLayout } from "./operator-frame.ts";

/** A refused form: its error, and what was typed, to show it again. */
export interface RefusedForm {
  error: AppError;
  values: Record<string, string>;
}

export interface CatalogueView {
  plans: PlanWithLocations[];
  os: OsRow[];
  locations: LocationRow[];
  plan?: RefusedForm;
  osForm?: RefusedForm;
}

/** A labelled text field of a form, showing what was typed before. */
export function field(
  form: string,
  name: string,
  label: string,
  values: Record<string, string> | undefined,
  extra: Html = html``,
): Html {
  const id = `${form}-${name}`;
  return html`<div class="field"><label for="${id}">${label}</label><input id="${id}" name="${name}" type="text" value="${values?.[name] ?? ""}" required${extra}></div>`;
}

export function operatorCataloguePage(frame: PageFrame, view: CatalogueView): Html {
  const planValues = view.plan?.values;
  const osValues = view.osForm?.values;
  return operatorLayout(
    frame,
    "/admin/catalogue",
    "Plans and images",
    html`<h1>Plans and images</h1>
<section class="card" aria-labelledby="plans-heading">
  <h2 id="plans-heading">Plans</h2>
  <div class="table-wrap">
  <table>
    <thead><tr><th scope="col">Name</th><th scope="col">vCPUs</th><th scope="col">Memory (MB)</th><th scope="col">Disk (GB)</th><th scope="col">Traffic (GB)</th><th scope="col">Hourly</th><th scope="col">Monthly</th><th scope="col">Locations</th></tr></thead>
    <tbody>${view.plans.map(
      (p) => html`<tr>
      <th scope="row">${p.name}</th>
      <td class="number">${p.vcpus}</td><td class="number">${p.memory_mb}</td><td class="number">${p.storage_gb}</td><td class="number">${p.bandwidth_gb}</td>
      <td class="number">${formatMoney(p.price_hourly_minor)}</td><td class="number">${formatMoney(p.price_monthly_minor)}</td>
      <td class="wrap">${p.locations.join(", ")}</td>
    </tr>`,
    )}</tbody>
  </table>
  </div>
  <h3>Add a plan</h3>
  ${errorAlert(view.plan?.error)}
  <form method="post" action="/admin/catalogue/plans" class="grid">
    ${csrfField(frame.csrf)}
    ${field("plan", "name", "Name", planValues)}
    ${field("plan", "vcpus", "vCPUs", planValues, html` inputmode="numeric"`)}
    ${field("plan", "memory", "Memory (MB)", planValues, html` inputmode="numeric"`)}
    ${field("plan", "storage", "Disk (GB)", planValues, html` inputmode="numeric"`)}
    ${field("plan", "bandwidth", "Traffic (GB a month)", planValues, html` inputmode="numeric"`)}
    ${field("plan", "price_hourly", "Price an hour", planValues, html` inputmode="decimal"`)}
    ${field("plan", "price_monthly", "Price a month", planValues, html` inputmode="decimal"`)}
    <fieldset class="wide">
      <legend>Offered in</legend>
      ${view.locations.map(
        (l) =>
          html`<label class="check"><input type="checkbox" name="location:${l.code}" value="on"${planValues?.[`location:${l.code}`] ? html` checked` : ""}> ${l.name} (${l.code})</label>`,
      )}
    </fieldset>
    <div class="wide"><button type="submit">Add the plan</button></div>
  </form>
</section>
<section class="card" aria-labelledby="os-heading">
  <h2 id="os-heading">Operating systems and their images</h2>
  <div class="table-wrap">
  <table>
    <thead><tr><th scope="col">Name</th><th scope="col">Distribution</th><th scope="col">Version</th><th scope="col">Image</th></tr></thead>
    <tbody>${view.os.map(
      (o) =>
        html`<tr><th scope="row">${o.name}</th><td>${o.distribution}</td><td>${o.version}</td><td><code>${o.image}</code></td></tr>`,
    )}</tbody>
  </table>
  </div>
  <h3>Add an operating system</h3>
  ${errorAlert(view.osForm?.error)}
  <form method="post" action="/admin/catalogue/os" class="grid">
    ${csrfField(frame.csrf)}
    ${field("os", "name", "Name", osValues)}
    ${field("os", "distribution", "Distribution", osValues)}
    ${field("os", "version", "Version", osValues)}
    ${field("os", "image", "Image file", osValues, html` aria-describedby="os-image-hint"`)}
    <p class="hint wide" id="os-image-hint">The base image's file name in the driver's image directory (such as ubuntu-22.04.qcow2); each host reports the images it has.</p>
    <div class="wide"><button type="submit">Add the operating system</button></div>
  </form>
</section>`,
  );
}
