import type { PoolUsage } from "../../db/repositories/catalogue-repository.ts";
import type { LocationRow } from "../../db/schema.ts";
import { type Html, html } from "../html.ts";
import type { PageFrame } from "../layout.ts";
import { errorAlert } from "./error-alert.ts";
import { field, type RefusedForm } from "./operator-catalogue-page.ts";
import { csrfField, operatorLayout } from "./operator-frame.ts";

export interface LocationsView {
  locations: LocationRow[];
  pools: PoolUsage[];
  location?: RefusedForm;
  addresses?: RefusedForm;
  /** What the last block added, to say so. */
  added?: { code: string; family: number; added: number };
}

function pool(pools: PoolUsage[], location: LocationRow, family: 4 | 6): Html {
  const found = pools.find((p) => p.location_id === location.id && p.family === family);
  if (!found) return html`<td class="number" data-pool="${location.code}-${family}">none</td><td></td>`;
  return html`<td class="number" data-pool="${location.code}-${family}">${found.used} of ${found.total}</td><td class="number">${found.total - found.used}</td>`;
}

export function operatorLocationsPage(frame: PageFrame, view: LocationsView): Html {
  const blockValues = view.addresses?.values;
  return operatorLayout(
    frame,
    "/admin/locations",
    "Locations and pools",
    html`<h1>Locations and address pools</h1>
${
  view.added
    ? html`<p class="card notice" role="status">Added ${view.added.added} IPv${view.added.family} addresses to the pool of ${view.added.code}.</p>`
    : ""
}
<section class="card" aria-labelledby="locations-heading">
  <h2 id="locations-heading">Locations</h2>
  <div class="table-wrap">
  <table>
    <thead><tr><th scope="col">Code</th><th scope="col">Name</th><th scope="col">Country</th><th scope="col">IPv4 used</th><th scope="col">IPv4 free</th><th scope="col">IPv6 used</th><th scope="col">IPv6 free</th></tr></thead>
    <tbody>${view.locations.map(
      (l) => html`<tr data-location="${l.code}">
      <th scope="row">${l.code}</th><td>${l.name}</td><td>${l.country}</td>
      ${pool(view.pools, l, 4)}${pool(view.pools, l, 6)}
    </tr>`,
    )}</tbody>
  </table>
  </div>
</section>
<section class="card" aria-labelledby="addresses-heading">
  <h2 id="addresses-heading">Add addresses to a pool</h2>
  ${errorAlert(view.addresses?.error)}
  <form method="post" action="/admin/locations/addresses" class="grid">
    ${csrfField(frame.csrf)}
    <div class="field"><label for="block-location">Location</label>
    <select id="block-location" name="location">${view.locations.map(
      (l) =>
        html`<option value="${l.code}"${blockValues?.location === l.code ? html` selected` : ""}>${l.code}</option>`,
    )}</select></div>
    ${field("block", "cidr", "Block (CIDR)", blockValues, html` aria-describedby="cidr-hint"`)}
    <p class="hint wide" id="cidr-hint">IPv4 or IPv6, such as 203.0.113.0/24 or 2001:db8:1::/112; at most 65,536 addresses at a time. A block sharing any address with a pool is refused whole.</p>
    <div class="wide"><button type="submit">Add the addresses</button></div>
  </form>
</section>
<section class="card" aria-labelledby="new-location-heading">
  <h2 id="new-location-heading">Add a location</h2>
  ${errorAlert(view.location?.error)}
  <form method="post" action="/admin/locations" class="grid">
    ${csrfField(frame.csrf)}
    ${field("location", "code", "Code", view.location?.values, html` aria-describedby="code-hint"`)}
    ${field("location", "name", "Name", view.location?.values)}
    ${field("location", "country", "Country (two letters)", view.location?.values, html` maxlength="2"`)}
    <p class="hint wide" id="code-hint">Lowercase letters, digits and single hyphens, such as eu-west.</p>
    <div class="wide"><button type="submit">Add the location</button></div>
  </form>
</section>`,
  );
}
