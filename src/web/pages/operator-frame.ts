import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";

const SECTIONS = [
  { href: "/admin/accounts", label: "Accounts" },
  { href: "/admin/hosts", label: "Hosts" },
  { href: "/admin/catalogue", label: "Plans and images" },
  { href: "/admin/locations", label: "Locations and pools" },
  { href: "/admin/failed-actions", label: "Failed actions" },
];

/** An operator page: the console's frame, with the operator's sections under the main navigation. */
export function operatorLayout(frame: PageFrame, section: string, title: string, content: Html): Html {
  return layout(
    { ...frame, title, current: "/admin" },
    html`<nav class="sections" aria-label="Operator">
  <ul>${SECTIONS.map(
    (s) =>
      html`<li><a href="${s.href}"${s.href === section ? html` aria-current="page"` : ""}>${s.label}</a></li>`,
  )}</ul>
</nav>
${content}`,
  );
}

/** A list's previous and next links, when it has more than one page. */
export function pager(path: string, page: number, pageSize: number, count: number): Html {
  const last = Math.max(1, Math.ceil(count / pageSize));
  if (last === 1) return html``;
  return html`<nav class="pager" aria-label="Pages">
  ${page > 1 ? html`<a href="${path}?page=${Math.min(page - 1, last)}" rel="prev">Previous</a>` : ""}
  <span>Page ${Math.min(page, last)} of ${last} (${count})</span>
  ${page < last ? html`<a href="${path}?page=${page + 1}" rel="next">Next</a>` : ""}
</nav>`;
}

/** A form's hidden CSRF field. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}
