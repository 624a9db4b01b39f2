import type { WebhookEndpointRow } from "../../db/schema.ts";
import { eventsOf, WEBHOOK_EVENT_TYPES, webhookMessageId } from "../../domain/webhook-events.ts";
import type { DeliveryWithAttempts } from "../../services/webhook-service.ts";
import { type Html, html } from "../html.ts";
import { alert, layout, type PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { copyableSecret } from "./copyable-secret.ts";

/** The add form as it was sent, when the service refused it. */
export interface WebhookForm {
  url?: string;
  events?: string[];
  error?: string;
}

function endpointRow(frame: PageFrame, endpoint: WebhookEndpointRow): Html {
  const enabled = endpoint.enabled === 1;
  return html`<tr data-webhook-id="${endpoint.id}">
      <th scope="row"><a href="/webhooks/${endpoint.id}">${endpoint.url}</a></th>
      <td>${eventsOf(endpoint.events).join(", ")}</td>
      <td>${
        enabled
          ? "Enabled"
          : html`<strong class="disabled-reason">Off since ${endpoint.disabled_at ? when(endpoint.disabled_at) : ""}. ${endpoint.disabled_reason ?? ""}</strong>`
      }</td>
      <td class="row-actions">
        ${
          enabled
            ? ""
            : html`<form method="post" action="/webhooks/${endpoint.id}/enable"><input type="hidden" name="_csrf" value="${frame.csrf}"><button type="submit" aria-label="Enable the webhook ${endpoint.url}">Enable</button></form>`
        }
        <form method="post" action="/webhooks/${endpoint.id}/delete"><input type="hidden" name="_csrf" value="${frame.csrf}"><button type="submit" class="danger" aria-label="Delete the webhook ${endpoint.url}">Delete</button></form>
      </td>
    </tr>`;
}

function addForm(frame: PageFrame, form: WebhookForm): Html {
  const chosen = form.events ?? [...WEBHOOK_EVENT_TYPES];
  return html`<section class="card">
  <h2 id="add-webhook">Add an endpoint</h2>
  ${alert(form.error)}
  <form method="post" action="/webhooks" aria-labelledby="add-webhook">
    <input type="hidden" name="_csrf" value="${frame.csrf}">
    <label for="webhook-url">URL</label>
    <input id="webhook-url" name="url" type="url" required maxlength="2000" value="${form.url ?? ""}" placeholder="https://example.com/hooks/vps"${form.error ? html` aria-invalid="true"` : ""}>
    <fieldset>
      <legend>Events</legend>
      ${WEBHOOK_EVENT_TYPES.map(
        (type) =>
          html`<label><input type="checkbox" name="event_${type}" value="on"${chosen.includes(type) ? html` checked` : ""}> ${type}</label>`,
      )}
    </fieldset>
    <button type="submit">Add the endpoint</button>
  </form>
</section>`;
}

export function webhooksPage(
  frame: PageFrame,
  endpoints: WebhookEndpointRow[],
  form: WebhookForm = {},
): Html {
  return layout(
    { ...frame, title: "Webhooks", current: "/webhooks" },
    html`<h1>Webhooks</h1>
<section class="card">
  <h2>Your endpoints</h2>
  <p class="hint">Events are POSTed to each endpoint signed with its secret (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>). An endpoint whose deliveries keep failing is disabled until you enable it.</p>
  <div class="table-wrap">
  <table class="webhooks">
    <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
    ${endpoints.length === 0 ? html`<tr><td colspan="4" class="empty">No webhook endpoints yet.</td></tr>` : endpoints.map((e) => endpointRow(frame, e))}
    </tbody>
  </table>
  </div>
</section>
${addForm(frame, form)}`,
  );
}

/** The answer to an add: the only page that ever shows the secret. */
export function createdWebhookPage(frame: PageFrame, endpoint: WebhookEndpointRow, secret: string): Html {
  return layout(
    { ...frame, title: "Your new webhook endpoint", current: "/webhooks" },
    html`<section class="card">
  <h1>Webhook endpoint added</h1>
  <p>${endpoint.url}</p>
  <p class="notice" role="alert"><strong>Copy its signing secret now: it is shown only this once.</strong> Verify each delivery's <code>webhook-signature</code> with it.</p>
  ${copyableSecret("new-secret", "Signing secret", secret)}
  <p><a href="/webhooks">Back to your webhooks</a></p>
</section>`,
  );
}

function deliveryRow(frame: PageFrame, delivery: DeliveryWithAttempts): Html {
  const codes = delivery.attempt_log.map((a) =>
    a.status_code === null ? (a.error ?? "no answer") : String(a.status_code),
  );
  const id = webhookMessageId(delivery);
  return html`<tr data-delivery-id="${delivery.id}">
      <th scope="row">${delivery.event_type}</th>
      <td><code>${id}</code>${delivery.redelivery_of === null ? "" : html` <span class="hint">(sent again)</span>`}</td>
      <td>${when(delivery.created_at)}</td>
      <td>${delivery.status}</td>
      <td>${codes.join(", ")}</td>
      <td class="row-actions">${
        delivery.status === "pending"
          ? ""
          : html`<form method="post" action="/webhooks/${delivery.endpoint_id}/deliveries/${delivery.id}/redeliver" class="inline"><input type="hidden" name="_csrf" value="${frame.csrf}"><button type="submit" class="small" aria-label="Redeliver ${delivery.event_type} ${id}">Redeliver</button></form>`
      }</td>
    </tr>`;
}

/** An endpoint's recent deliveries with the status codes of their attempts. */
export function webhookPage(
  frame: PageFrame,
  endpoint: WebhookEndpointRow,
  deliveries: DeliveryWithAttempts[],
): Html {
  return layout(
    { ...frame, title: "Webhook deliveries", current: "/webhooks" },
    html`<h1>Deliveries to ${endpoint.url}</h1>
${endpoint.enabled === 1 ? "" : html`<p class="notice" role="alert"><strong>Disabled:</strong> ${endpoint.disabled_reason ?? ""}</p>`}
<section class="card">
  <h2>Recent deliveries</h2>
  <form class="card-action" method="post" action="/webhooks/${endpoint.id}/ping"><input type="hidden" name="_csrf" value="${frame.csrf}"><button type="submit">Send a ping</button></form>
  <div class="table-wrap">
  <table class="deliveries">
    <thead><tr><th scope="col">Event</th><th scope="col">Id</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>
    ${deliveries.length === 0 ? html`<tr><td colspan="6" class="empty">No deliveries yet.</td></tr>` : deliveries.map((d) => deliveryRow(frame, d))}
    </tbody>
  </table>
  </div>
  <p><a href="/webhooks">Back to your webhooks</a></p>
</section>`,
  );
}
