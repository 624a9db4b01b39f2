import type { ServerDetails } from "../../db/repositories/server-repository.ts";
import { type Html, html } from "../html.ts";
import { layout, type PageFrame } from "../layout.ts";

/** The graphs, in the order shown: the usage history's series name, a heading and its unit. */
export const GRAPHS = [
  { series: "cpu", title: "CPU", unit: "%" },
  { series: "memory.used", title: "Memory", unit: "MiB" },
  { series: "disk.0.used", title: "Disk", unit: "GB" },
  { series: "network.0.bandwidth.in", title: "Network in", unit: "bytes/s" },
  { series: "network.0.bandwidth.out", title: "Network out", unit: "bytes/s" },
] as const;

const RANGES = [
  { range: "hour", label: "Last hour" },
  { range: "day", label: "Last day" },
  { range: "week", label: "Last week" },
] as const;

/** A server's usage graphs (uPlot, drawn by /assets/usage-graphs.js from /servers/<id>/metrics.json). */
export function serverGraphsPage(frame: PageFrame, server: ServerDetails): Html {
  const limits: Record<string, number> = {
    cpu: 100,
    "memory.used": server.memory_mb,
    "disk.0.used": server.storage_gb,
  };
  return layout(
    {
      ...frame,
      title: `Usage of ${server.name}`,
      current: "/servers",
      styles: ["uplot.css"],
      scripts: ["uplot.js", "usage-graphs.js"],
    },
    html`<p class="crumbs"><a href="/servers">Servers</a> › ${server.name}</p>
<h1>Usage of ${server.name}</h1>
<div id="usage-graphs" data-metrics-url="/servers/${server.id}/metrics.json">
  <div class="ranges" role="group" aria-label="Time range">
    ${RANGES.map(
      (r, i) =>
        html`<button type="button" data-range="${r.range}" aria-pressed="${i === 0 ? "true" : "false"}">${r.label}</button>`,
    )}
  </div>
  <p id="graphs-status" class="hint" role="status" aria-live="polite"></p>
  <div class="graphs">
  ${GRAPHS.map(
    (
      g,
    ) => html`<section class="card graph" data-series="${g.series}" data-unit="${g.unit}" data-max="${limits[g.series] ?? ""}" aria-labelledby="graph-${g.series}">
    <h2 id="graph-${g.series}">${g.title} <span class="hint">(${g.unit})</span></h2>
    <div class="plot"></div>
    <p class="hint latest">Loading…</p>
  </section>`,
  )}
  </div>
</div>
<p class="hint"><a href="/servers/${server.id}/console">Serial console</a></p>`,
  );
}
