import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";

const SECTIONS = [
  { href: "/admin/accounts", label: "Accounts" },
  { href: "/admin/hosts", label: "Hosts" },
  { href: "/admin/catalogue", label: "Plans and images" },
  { href: "/admin/locations", label: "Locations and pools" },
  { href: "/admin/failed-actions", label: "Failed actions" },
  { href: "/admin/revenue", label: "Revenue" },
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

/** A form's hidden CSRF field. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}
