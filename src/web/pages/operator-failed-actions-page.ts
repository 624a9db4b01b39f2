import type { FailedOperation } from "../../db/repositories/operation-repository.ts";
import { type Html, html } from "../html.ts";
import type { PageFrame } from "../layout.ts";
import { when } from "../when.ts";
import { operatorLayout } from "./operator-frame.ts";
import { pager } from "./pager.ts";

const SECTION = "/admin/failed-actions";

export function operatorFailedActionsPage(
  frame: PageFrame,
  list: { actions: FailedOperation[]; count: number; page: number; pageSize: number },
): Html {
  return operatorLayout(
    frame,
    SECTION,
    "Failed actions",
    html`<h1>Failed actions</h1>
<p class="hint">Actions of every account that failed for good, the newest first, with the error their customer was given.</p>
<div class="table-wrap">
<table class="failed">
  <thead><tr><th scope="col">Ended</th><th scope="col">Action</th><th scope="col">Server</th><th scope="col">Account</th><th scope="col">Error</th></tr></thead>
  <tbody>
  ${
    list.actions.length === 0
      ? html`<tr><td colspan="5" class="empty">No failed actions.</td></tr>`
      : list.actions.map(
          (a) => html`<tr data-action-id="${a.id}">
    <td>${a.finished_at ? when(a.finished_at) : "—"}</td>
    <th scope="row">${a.kind} <span class="hint">#${a.id}</span></th>
    <td>${a.server_name} <span class="hint">#${a.server_id}</span></td>
    <td><a href="/admin/accounts/${a.account_id}">${a.account_email}</a></td>
    <td class="error"><code class="code">${a.error_code ?? "unknown"}</code> ${a.error_message ?? ""}</td>
  </tr>`,
        )
  }
  </tbody>
</table>
</div>
${pager(SECTION, list.page, list.pageSize, list.count)}`,
  );
}
