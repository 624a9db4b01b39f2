// The web console's servers list for an account of 1,000 servers: npm run bench:console. The real service runs as
// its own process on a database seeded as for `npm run bench` (10,000 servers over ten accounts, the measured one
// holding 1,000); a headless chromium (playwright-core driving Debian's chromium) signs in through an invitation
// link and opens /servers. Beside it, in the same run, the API's `GET /api/v1/servers/?page_size=100`: the same
// hundred servers as JSON, the server's own cost of reading and sending them.
//
//   BENCH_RUNS=10            page loads of each kind (first visit, cached revisit); fragment and API requests x5
//   BENCH_OPEN_SECONDS=20    how long one tab stays open to count what its live refresh costs
//   BENCH_POSTGRES_URL=...   on PostgreSQL instead of SQLite
//
// Time to interactive, as measured here: from the navigation's start until both (a) htmx has processed the page
// (its `htmx:load` on <body>: links, forms and the list's polling are wired up) and (b) the main thread has no
// long task (>= 50 ms, the Long Tasks API) left, long tasks being watched until the list's first live refresh
// has answered (two seconds after the load), so that a late one still counts.
import { cpus, loadavg, totalmem } from "node:os";
import type { BrowserContext, CDPSession, Page } from "playwright-core";
import { openDatabase } from "../src/db/database.ts";
import { launchBrowser } from "../test/support/browser.ts";
import {
  AUTH,
  BENCH_ADMIN_TOKEN,
  freshDatabase,
  median,
  POSTGRES,
  seed,
  startService,
  work,
} from "./harness.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const OPEN_SECONDS = Number(process.env.BENCH_OPEN_SECONDS ?? 20);
const PASSWORD = "bench password, long enough";
const VIEWPORT = { width: 1280, height: 900 };

/** Watches the page from before its first script: long tasks, htmx's start, the live list's requests. */
const INSTRUMENT = `(() => {
  const b = { longTasks: [], htmxAt: undefined, refreshAt: undefined };
  globalThis.__bench = b;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([e.startTime, e.startTime + e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch {}
  document.addEventListener("htmx:load", (e) => {
    if (b.htmxAt === undefined && e.target === document.body) b.htmxAt = performance.now();
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    if (b.refreshAt === undefined && String(e.detail.pathInfo && e.detail.pathInfo.requestPath).startsWith("/servers/rows"))
      b.refreshAt = performance.now();
  });
})();`;

interface Bench {
  longTasks: [number, number][];
  htmxAt?: number;
  refreshAt?: number;
}

/** Bytes on the wire (headers included) by Chrome's resource type, as the DevTools protocol counts them. */
class Wire {
  #types = new Map<string, string>();
  bytes = new Map<string, number>();
  requests = new Map<string, number>();
  constructor(cdp: CDPSession) {
    cdp.on("Network.responseReceived", (e) => this.#types.set(e.requestId, e.type));
    cdp.on("Network.loadingFinished", (e) => {
      const type = this.#types.get(e.requestId) ?? "Other";
      this.bytes.set(type, (this.bytes.get(type) ?? 0) + e.encodedDataLength);
      this.requests.set(type, (this.requests.get(type) ?? 0) + 1);
    });
  }
  reset(): void {
    this.bytes.clear();
    this.requests.clear();
  }
  of(...types: string[]): number {
    return types.reduce((sum, t) => sum + (this.bytes.get(t) ?? 0), 0);
  }
}

interface Visit {
  html: number;
  css: number;
  js: number;
  total: number;
  ttfb: number;
  domContentLoaded: number;
  load: number;
  tti: number;
  firstRefresh: number;
}

async function visit(page: Page, wire: Wire, url: string): Promise<Visit> {
  wire.reset();
  await page.goto(url, { waitUntil: "load" });
  // The weight is the page's own resources, counted once loaded (the list's refresh comes two seconds later).
  const weight = { html: wire.of("Document"), css: wire.of("Stylesheet"), js: wire.of("Script") };
  await page.waitForFunction(
    () => (globalThis as unknown as { __bench: Bench }).__bench.refreshAt !== undefined,
    undefined,
    { timeout: 15_000 },
  );
  const t = await page.evaluate<{ bench: Bench; ttfb: number; dcl: number; load: number }>(`(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return { bench: globalThis.__bench, ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  })()`);
  const { htmxAt = Number.NaN, refreshAt = Number.NaN, longTasks } = t.bench;
  const lastLongTask = Math.max(0, ...longTasks.filter(([start]) => start < refreshAt).map(([, end]) => end));
  return {
    ...weight,
    total: weight.html + weight.css + weight.js,
    ttfb: t.ttfb,
    domContentLoaded: t.dcl,
    load: t.load,
    tti: Math.max(htmxAt, lastLongTask),
    firstRefresh: refreshAt,
  };
}

async function instrumented(context: BrowserContext): Promise<{ page: Page; wire: Wire }> {
  await context.addInitScript(INSTRUMENT);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  return { page, wire: new Wire(cdp) };
}

/** One GET `n` times in a row: the median of its time and its body's bytes, and its status. */
async function timed(url: string, headers: Record<string, string>, n: number) {
  const ms: number[] = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    bytes = (await res.arrayBuffer()).byteLength;
    ms.push(performance.now() - started);
    status = res.status;
  }
  return { ms: median(ms), bytes, status };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<void> {
  const backend = POSTGRES ? "postgres" : "sqlite";
  const load0 = loadavg();
  const databaseUrl = await freshDatabase(backend, "vps_bench_console");
  const mine = await seed(databaseUrl, 10_000);
  const database = await openDatabase(databaseUrl);
  const { id: accountId } = await database.db
    .selectFrom("accounts")
    .select("id")
    .where("email", "=", "bench-0@example.com")
    .executeTakeFirstOrThrow();
  await database.close();
  const service = await startService(databaseUrl);
  const browser = await launchBrowser();
  try {
    const invitation = await fetch(`${service.url}/api/v1/admin/accounts/${accountId}/invitation/`, {
      method: "POST",
      headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    });
    const { url: invitationUrl } = (await invitation.json()) as { url: string };
    const signIn = await browser.newContext({ viewport: VIEWPORT });
    const signInPage = await signIn.newPage();
    await signInPage.goto(`${service.url}${new URL(invitationUrl).pathname}`);
    await signInPage.getByLabel("New password").fill(PASSWORD);
    await signInPage.getByRole("button", { name: "Set the password and sign in" }).click();
    await signInPage.waitForURL(`${service.url}/servers`);
    const storageState = await signIn.storageState();
    await signIn.close();
    const cookie = storageState.cookies.find((c) => c.name === "vps_session");
    if (!cookie) throw new Error("no session cookie");
    const list = `${service.url}/servers`;

    console.log(
      `servers list, ${backend}, the account's ${mine.length} servers (10,000 in the database), ${RUNS} runs`,
    );
    const first: Visit[] = [];
    const again: Visit[] = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: VIEWPORT, storageState });
      const { page, wire } = await instrumented(context);
      first.push(await visit(page, wire, list));
      again.push(await visit(page, wire, list));
      await context.close();
    }

    // One tab left open: what its live refresh costs over time.
    const context = await browser.newContext({ viewport: VIEWPORT, storageState });
    const { page, wire } = await instrumented(context);
    await page.goto(list, { waitUntil: "load" });
    const refreshUrl = await page.locator("#server-list").getAttribute("hx-get");
    wire.reset();
    await page.waitForTimeout(OPEN_SECONDS * 1000);
    const refreshBytes = wire.of("XHR", "Fetch");
    const refreshes = (wire.requests.get("XHR") ?? 0) + (wire.requests.get("Fetch") ?? 0);
    await context.close();

    // The server's side, alternating in the same rounds: the page's HTML, its live fragment as the page asks
    // for it, and the API's page of the same 100 servers.
    const web = { cookie: `vps_session=${cookie.value}` };
    const rounds: { html: number; fragment: number; api: number }[] = [];
    let shapes = { html: 0, fragment: 0, fragmentStatus: 0, api: 0 };
    for (let run = 0; run < RUNS; run++) {
      const html = await timed(list, web, 5);
      const fragment = await timed(`${service.url}${refreshUrl}`, web, 5);
      const api = await timed(`${service.url}/api/v1/servers/?page_size=100`, AUTH, 5);
      rounds.push({ html: html.ms, fragment: fragment.ms, api: api.ms });
      shapes = {
        html: html.bytes,
        fragment: fragment.bytes,
        fragmentStatus: fragment.status,
        api: api.bytes,
      };
    }

    const m = (xs: Visit[], pick: (v: Visit) => number) => median(xs.map(pick));
    const row = (name: string, xs: Visit[]) =>
      `| ${name} | ${kb(m(xs, (v) => v.total))} (HTML ${kb(m(xs, (v) => v.html))}, CSS ${kb(m(xs, (v) => v.css))}, JS ${kb(m(xs, (v) => v.js))}) | ${ms(m(xs, (v) => v.ttfb))} | ${ms(m(xs, (v) => v.domContentLoaded))} | ${ms(m(xs, (v) => v.load))} | ${ms(m(xs, (v) => v.tti))} | ${ms(m(xs, (v) => v.firstRefresh))} |`;
    const api = median(rounds.map((r) => r.api));
    const lines = [
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB; load average ${load0.map((l) => l.toFixed(1)).join(" ")} at the start, ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} at the end; ${backend}; scratch ${work}`,
      "",
      "| /servers (100 of 1,000 servers) | page weight on the wire | TTFB | DOMContentLoaded | load | time to interactive | first live refresh answered |",
      "|---|---|---|---|---|---|---|",
      row("first visit", first),
      row("cached revisit", again),
      "",
      "| request (server side, sequential, median of each round's median) | body | time | ratio to the API's page |",
      "|---|---|---|---|",
      `| \`GET /api/v1/servers/?page_size=100\` (baseline) | ${kb(shapes.api)} | ${ms(api)} | 1.00 |`,
      `| \`GET /servers\` (HTML page) | ${kb(shapes.html)} | ${ms(median(rounds.map((r) => r.html)))} | ${median(rounds.map((r) => r.html / r.api)).toFixed(2)} |`,
      `| \`GET ${refreshUrl?.replace(/v=[0-9a-f]+/, "v=…")}\` (live refresh, ${shapes.fragmentStatus}) | ${kb(shapes.fragment)} | ${ms(median(rounds.map((r) => r.fragment)))} | ${median(rounds.map((r) => r.fragment / r.api)).toFixed(2)} |`,
      "",
      `An open tab for ${OPEN_SECONDS} s: ${refreshes} live refreshes, ${kb(refreshBytes)} on the wire (${kb((refreshBytes / OPEN_SECONDS) * 60)} a minute).`,
    ];
    console.log(lines.join("\n"));
  } finally {
    await browser.close();
    await service.stop();
  }
}

await main();
