// The usage graphs page: fetches the server's series for the chosen range from /servers/<id>/metrics.json and
// draws each with uPlot; below each graph, its latest value as text.

(() => {
  const root = document.getElementById("usage-graphs");
  const status = document.getElementById("graphs-status");
  if (!root || !status) return;
  const uPlot = globalThis.uPlot;

  // Range → [seconds back from now, seconds per point].
  const RANGES = { hour: [3600, 60], day: [86400, 900], week: [604800, 3600] };
  const sections = [...root.querySelectorAll("section.graph")];
  const plots = new Map();

  function format(value, unit) {
    if (unit === "bytes/s") {
      const units = ["B/s", "KB/s", "MB/s", "GB/s"];
      let i = 0;
      while (value >= 1000 && i < units.length - 1) {
        value /= 1000;
        i++;
      }
      return `${value.toFixed(value < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
    }
    return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
  }

  // Axis ticks: the unit is in the graph's heading, so a tick is a short number (1.5k, 2M).
  function compact(value) {
    const steps = [
      [1e9, "G"],
      [1e6, "M"],
      [1e3, "k"],
    ];
    for (const [size, suffix] of steps) {
      if (Math.abs(value) >= size) return `${+(value / size).toFixed(1)}${suffix}`;
    }
    return `${+value.toFixed(1)}`;
  }

  // Times in UTC, as everywhere in the console: hours and minutes, or the day over a week.
  function when(seconds, span) {
    const iso = new Date(seconds * 1000).toISOString();
    return span > 2 * 86400 ? iso.slice(5, 10) : iso.slice(11, 16);
  }

  function draw(section, values, from, to) {
    const unit = section.dataset.unit;
    const max = Number(section.dataset.max) || undefined;
    const xs = values.map((p) => p[0]);
    const ys = values.map((p) => Number(p[1]));
    const target = section.querySelector(".plot");
    plots.get(section)?.destroy();
    const plot = new uPlot(
      {
        width: Math.max(target.clientWidth, 200),
        height: 180,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: () => [from, to] },
          y: { range: (_u, _min, dataMax) => [0, Math.max(max ?? 0, dataMax || 1)] },
        },
        axes: [
          { values: (_u, ticks) => ticks.map((t) => when(t, to - from)) },
          { size: 50, values: (_u, ticks) => ticks.map(compact) },
        ],
        series: [
          {},
          {
            label: section.querySelector("h2").firstChild.textContent.trim(),
            stroke: "#0b5cad",
            fill: "rgba(11, 92, 173, 0.12)",
            width: 2,
            points: { show: xs.length < 3, size: 8 },
          },
        ],
      },
      [xs, ys],
      target,
    );
    plots.set(section, plot);
    section.dataset.points = String(xs.length);
    const latest = section.querySelector(".latest");
    const last = values.at(-1);
    latest.textContent = last
      ? `Latest: ${format(Number(last[1]), unit)} at ${new Date(last[0] * 1000).toISOString().slice(11, 16)} UTC`
      : "No data in this range yet.";
  }

  async function load(range) {
    const [back, step] = RANGES[range];
    const to = Math.floor(Date.now() / 1000);
    const from = to - back;
    const query = new URLSearchParams({
      type: "cpu,memory,disk,network",
      start: new Date(from * 1000).toISOString(),
      end: new Date(to * 1000).toISOString(),
      step: String(step),
    });
    status.textContent = "Loading…";
    const res = await fetch(`${root.dataset.metricsUrl}?${query}`, { credentials: "same-origin" });
    const body = await res.json().catch(() => undefined);
    if (!res.ok || !body?.metrics) {
      status.textContent = body?.error?.message ?? `The usage could not be loaded (HTTP ${res.status}).`;
      return;
    }
    status.textContent = "";
    for (const section of sections) {
      draw(section, body.metrics.time_series[section.dataset.series]?.values ?? [], from, to);
    }
    root.dataset.range = range;
  }

  for (const button of root.querySelectorAll("button[data-range]")) {
    button.addEventListener("click", () => {
      for (const other of root.querySelectorAll("button[data-range]")) {
        other.setAttribute("aria-pressed", String(other === button));
      }
      load(button.dataset.range);
    });
  }
  addEventListener("resize", () => {
    for (const [section, plot] of plots) {
      plot.setSize({ width: Math.max(section.querySelector(".plot").clientWidth, 200), height: 180 });
    }
  });
  load("hour");
})();
