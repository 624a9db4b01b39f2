import { assetUrl } from "./assets.ts";
import { type BalanceWarning, balanceBanner } from "./balance-banner.ts";
import { type Html, html } from "./html.ts";

export interface PageFrame {
  title: string;
  /** The token the page's forms and htmx requests send back. */
  csrf: string;
  /** The signed-in account: the header shows it, the navigation and the sign-out button. */
  account?: { email: string; operator?: boolean; balance?: BalanceWarning | undefined };
  /** Which navigation entry is this page's. */
  current?: string;
  /** Stylesheets and scripts (names in ASSETS) this page needs beside the console's own. */
  styles?: string[];
  scripts?: string[];
}

const NAV = [
  { href: "/servers", label: "Servers" },
  { href: "/ssh-keys", label: "SSH keys" },
  { href: "/api-tokens", label: "API tokens" },
  { href: "/webhooks", label: "Webhooks" },
  { href: "/billing", label: "Billing" },
  { href: "/account", label: "Account" },
];

/** Shown to operators only (accounts the admin API made operators). */
const OPERATOR_NAV = { href: "/admin", label: "Operator" };

/** The page around every page's content. */
export function layout(frame: PageFrame, content: Html): Html {
  const { account } = frame;
  const nav = account?.operator ? [...NAV, OPERATOR_NAV] : NAV;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'>
<title>${frame.title} · VPS console</title>
${(frame.styles ?? []).map(
  (name) => html`<link rel="stylesheet" href="${assetUrl(name)}">
`,
)}<link rel="stylesheet" href="${assetUrl("console.css")}">
<script src="${assetUrl("htmx.min.js")}" defer></script>
${(frame.scripts ?? []).map(
  (name) => html`<script src="${assetUrl(name)}" defer></script>
`,
)}
</head>
<body hx-headers='${JSON.stringify({ "X-CSRF-Token": frame.csrf })}'>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/">VPS console</a>
  ${
    account
      ? html`<nav aria-label="Main">
    <ul>${nav.map(
      (item) =>
        html`<li><a href="${item.href}"${item.href === frame.current ? html` aria-current="page"` : ""}>${item.label}</a></li>`,
    )}</ul>
  </nav>
  <div class="who">
    <span class="email">${account.email}</span>
    <form method="post" action="/sign-out">
      <input type="hidden" name="_csrf" value="${frame.csrf}">
      <button type="submit" class="link">Sign out</button>
    </form>
  </div>`
      : ""
  }
</header>
<main id="main">
${balanceBanner(account?.balance)}
${content}
</main>
</body>
</html>
`;
}

/** A message above a form: what went wrong, announced to screen readers. */
export function alert(message: string | undefined): Html {
  return message ? html`<p class="alert" role="alert">${message}</p>` : html``;
}
