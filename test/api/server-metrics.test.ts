import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { UsageRollup } from "../../src/engine/usage-rollup.ts";
import { type Client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// A server sampled every five minutes for two days by the power sync (the clock moved by hand), with the usage
// roll-up run every simulated hour, as the engine's periodic task would.
describe("usage history and GET /servers/{id}/metrics/", () => {
  let t: TestApp;
  let api: Client;
  let serverId: number;
  let usage: { cpu_percent: number; memory_used: number; disk_used: number };
  /** When the first sample was taken, unix seconds. */
  let firstSampleS: number;
  const clock = new SettableClock();
  // Only this test's syncs sample: the periodic power sync would add samples at its own times.
  before(async () => {
    t = await startTestApp({ VPS_POWER_SYNC_MS: String(DAY) }, clock);
    api = await t.newAccount();
    const created = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    assert.equal(created.status, 201, created.text);
    serverId = created.body.id;
    await waitForStatus(api, serverId, "active");
    // Samples two and a half minutes from each five-minute mark: every hour holds twelve whatever the test's pace.
    const nowMs = clock.now().getTime();
    clock.advance(5 * MINUTE - (nowMs % (5 * MINUTE)) + 2.5 * MINUTE);
    const engine = t.app.engine;
    firstSampleS = Math.floor((clock.now().getTime() + 5 * MINUTE) / 1000);
    for (let i = 1; i <= (2 * DAY) / (5 * MINUTE); i++) {
      clock.advance(5 * MINUTE);
      await engine.powerSync.syncOnce();
      if (i % 12 === 0) await engine.usageRollup.runOnce();
    }
    usage = (await api.get(`/api/v1/servers/${serverId}/`)).body.resource_usage;
  });
  after(() => t.close());

  const iso = (offsetMs: number) => new Date(clock.now().getTime() + offsetMs).toISOString();
  const metrics = (query: string, as: Client = api, id = serverId) =>
    as.get(`/api/v1/servers/${id}/metrics/?${query}`);
  const rowsOf = async (table: "usage_minutes" | "usage_hours") =>
    (
      await t.app.repos.db
        .selectFrom(table)
        .select(["at", "samples"])
        .where("server_id", "=", serverId)
        .orderBy("at")
        .execute()
    ).map((r) => ({ at: Number(r.at), samples: Number(r.samples) }));

  it("keeps a minute per sample for the last day and an hour per ended hour before it", async () => {
    const minutes = await rowsOf("usage_minutes");
    const nowS = Math.floor(clock.now().getTime() / 1000);
    assert.equal(minutes.length, 288, "a sample every five minutes for 24 hours");
    assert.ok(minutes.every((m) => m.at > nowS - 86_400 && m.samples === 1));
    // Every hour from the first sample's, but the one under way: twelve samples each, but the first one's.
    const hours = await rowsOf("usage_hours");
    const lastEnded = Math.floor(nowS / 3600) * 3600 - 3600;
    const firstHour = Math.floor(firstSampleS / 3600) * 3600;
    assert.equal(hours.length, (lastEnded - firstHour) / 3600 + 1, `${hours.length} hours`);
    assert.deepEqual(
      hours.map((h) => h.at),
      hours.map((_, i) => lastEnded - (hours.length - 1 - i) * 3600),
    );
    assert.ok(
      hours.slice(1).every((h) => h.samples === 12),
      JSON.stringify(hours),
    );
  });

  it("answers a range of the last day from the minutes, averaged into steps", async () => {
    const [start, end] = [iso(-6 * HOUR), iso(0)];
    const res = await metrics(`type=cpu,memory,disk,network&start=${start}&end=${end}&step=3600`);
    assert.equal(res.status, 200, res.text);
    const { metrics: m } = res.body;
    assert.deepEqual([m.start, m.end, m.step], [start, end, 3600]);
    assert.deepEqual(Object.keys(m.time_series).sort(), [
      "cpu",
      "disk.0.used",
      "memory.used",
      "network.0.bandwidth",
      "network.0.bandwidth.in",
      "network.0.bandwidth.out",
    ]);
    const cpu: [number, string][] = m.time_series.cpu.values;
    // Six whole hours of twelve samples, then the bucket the range ends in; each point [unix seconds, "value"].
    assert.equal(cpu.length, 7);
    assert.deepEqual(
      cpu.map(([at, v]) => [typeof at, typeof v]),
      cpu.map(() => ["number", "string"]),
    );
    for (let i = 1; i < cpu.length; i++) assert.equal(cpu[i]?.[0], (cpu[0]?.[0] ?? 0) + i * 3600);
    assert.ok(usage.cpu_percent > 0);
    assert.deepEqual(
      cpu.map(([, v]) => Number(v)),
      cpu.map(() => usage.cpu_percent),
    );
    assert.deepEqual(
      m.time_series["memory.used"].values.map(([, v]: [number, string]) => Number(v)),
      cpu.map(() => usage.memory_used),
    );
    assert.deepEqual(
      m.time_series["disk.0.used"].values.map(([, v]: [number, string]) => Number(v)),
      cpu.map(() => usage.disk_used),
    );
    // Bytes per second: the same steady rate over each whole hour, a twelfth of it in the last bucket's one sample.
    const net = m.time_series["network.0.bandwidth"].values.map(([, v]: [number, string]) => Number(v));
    const rate = net[0];
    assert.ok(rate > 0);
    for (const value of net.slice(0, 6)) assert.ok(Math.abs(value - rate) / rate < 0.01, `${net}`);
    assert.ok(Math.abs((net[6] ?? 0) - rate / 12) / rate < 0.01, `${net}`);
    // Received and sent apart (the sim sends four times what it receives), adding up to both together.
    const series = (name: string) =>
      m.time_series[name].values.map(([, v]: [number, string]) => Number(v)) as number[];
    const [received, sent] = [series("network.0.bandwidth.in"), series("network.0.bandwidth.out")];
    for (let i = 0; i < net.length; i++) {
      assert.ok(Math.abs((received[i] ?? 0) * 4 - (sent[i] ?? 0)) <= 4, `${received} ${sent}`);
      assert.ok(
        Math.abs((received[i] ?? 0) + (sent[i] ?? 0) - (net[i] ?? 0)) <= 2,
        `${received} ${sent} ${net}`,
      );
    }
  });

  it("answers a range older than a day from the hours, at a step of at least an hour", async () => {
    const res = await metrics(`type=cpu&start=${iso(-47 * HOUR)}&end=${iso(-25 * HOUR)}&step=60`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.metrics.step, 3600);
    const cpu: [number, string][] = res.body.metrics.time_series.cpu.values;
    assert.equal(cpu.length, 23);
    assert.ok(cpu.every(([at]) => at % 3600 === 0));
    assert.deepEqual(
      cpu.map(([, v]) => Number(v)),
      cpu.map(() => usage.cpu_percent),
    );
    // Two hours a point: each the average of its two hours.
    const coarse = await metrics(`type=cpu&start=${iso(-47 * HOUR)}&end=${iso(-25 * HOUR)}&step=7200`);
    assert.equal(coarse.body.metrics.time_series.cpu.values.length, 12);
  });

  it("ignores a sample written again for the same minute, and adds a newer one", async () => {
    const repos = t.app.repos;
    const newest = await repos.db
      .selectFrom("usage_minutes")
      .selectAll()
      .where("server_id", "=", serverId)
      .orderBy("at", "desc")
      .executeTakeFirstOrThrow();
    const row = {
      ...newest,
      samples: 1,
      at: Number(newest.at),
      last_sample_ms: Number(newest.last_sample_ms),
      net_bytes: Number(newest.net_bytes),
      net_in_bytes: Number(newest.net_in_bytes),
      net_out_bytes: Number(newest.net_out_bytes),
      memory_sum: Number(newest.memory_sum),
    };
    await repos.usageHistory.record([row]);
    await repos.usageHistory.record([row]);
    const again = await repos.db
      .selectFrom("usage_minutes")
      .selectAll()
      .where("server_id", "=", serverId)
      .where("at", "=", row.at)
      .executeTakeFirstOrThrow();
    assert.deepEqual(again, newest);
    await repos.usageHistory.record([{ ...row, last_sample_ms: row.last_sample_ms + 15_000 }]);
    const added = await repos.usageHistory.series(serverId, "minute", row.at, row.at + 60);
    assert.equal(added[0]?.samples, 2);
    assert.equal(added[0]?.netBytes, 2 * row.net_bytes);
    assert.deepEqual(
      [added[0]?.netInBytes, added[0]?.netOutBytes],
      [2 * row.net_in_bytes, 2 * row.net_out_bytes],
    );
    // Put back as it was, for the tests after this one.
    await repos.db
      .updateTable("usage_minutes")
      .set({
        samples: 1,
        cpu_sum: newest.cpu_sum,
        memory_sum: newest.memory_sum,
        net_bytes: newest.net_bytes,
        net_in_bytes: newest.net_in_bytes,
        net_out_bytes: newest.net_out_bytes,
      })
      .where("server_id", "=", serverId)
      .where("at", "=", row.at)
      .execute();
  });

  it("does not add an hour twice when a second process rolls up the same hours at once", async () => {
    const before = await rowsOf("usage_hours");
    const second: OpenDatabase = await openDatabase(t.database.url);
    try {
      const log = pino({ level: "silent" });
      const rollup = (repos: Repositories) => new UsageRollup({ repos, clock, log, intervalMs: MINUTE });
      // Both find the last six hours not rolled up yet, and roll them up at once.
      const sixHoursAgo = Math.floor(clock.now().getTime() / HOUR) * 3600 - 6 * 3600;
      await t.app.repos.settings.set("usage_rolled_until", String(sixHoursAgo));
      const runs = await Promise.all([
        rollup(t.app.repos).runOnce(),
        rollup(new Repositories(second.db)).runOnce(),
      ]);
      assert.ok(runs.every((run) => run.hours > 0));
      assert.deepEqual(await rowsOf("usage_hours"), before);
    } finally {
      await second.close();
    }
  });

  it("refuses a range that ends before it starts, an unknown type, a bad time or too many points", async () => {
    expectError(await metrics(`type=cpu&start=${iso(0)}&end=${iso(-HOUR)}`), 400, "invalid_input", ["end"]);
    // One instant for both ends: two readings of a moving clock may differ.
    const now = iso(0);
    expectError(await metrics(`type=cpu&start=${now}&end=${now}`), 400, "invalid_input", ["end"]);
    expectError(await metrics(`type=cpu,gpu&start=${iso(-HOUR)}&end=${iso(0)}`), 400, "invalid_input", [
      "type",
    ]);
    expectError(await metrics(`type=cpu&start=yesterday&end=${iso(0)}`), 400, "invalid_input", ["start"]);
    expectError(await metrics(`type=cpu&start=${iso(-HOUR)}`), 400, "invalid_input");
    expectError(await metrics(`type=cpu&start=${iso(-HOUR)}&end=${iso(0)}&step=0`), 400, "invalid_input");
    // 23 hours of minutes is 1,380 points: the answer names the step that fits.
    const tooMany = await metrics(`type=cpu&start=${iso(-23 * HOUR)}&end=${iso(0)}&step=60`);
    expectError(tooMany, 400, "invalid_input", ["step"]);
    assert.match(tooMany.body.error.fields.step[0], /at least 120 seconds/);
    assert.equal((await metrics(`type=cpu&start=${iso(-23 * HOUR)}&end=${iso(0)}&step=120`)).status, 200);
    // Without a step, about a hundred points.
    const defaulted = await metrics(`type=cpu&start=${iso(-20 * HOUR)}&end=${iso(0)}`);
    assert.equal(defaulted.body.metrics.step, 720);
  });

  it("shows a server's metrics to its own account only", async () => {
    const query = `type=cpu&start=${iso(-HOUR)}&end=${iso(0)}`;
    const other = await t.newAccount();
    expectError(await metrics(query, other), 404, "not_found");
    expectError(await metrics(query, api, serverId + 1000), 404, "not_found");
    expectError(await metrics(query, t.anonymous), 401, "unauthorized");
    assert.equal((await metrics(query)).status, 200);
  });

  it("drops minutes after a day and hours after 31 days", async () => {
    const hours = (await rowsOf("usage_hours")).length;
    clock.advance(DAY);
    await t.app.engine.usageRollup.runOnce();
    assert.deepEqual(await rowsOf("usage_minutes"), []);
    assert.equal((await rowsOf("usage_hours")).length, hours + 1, "and the hour the samples ended in");
    clock.advance(31 * DAY);
    await t.app.engine.usageRollup.runOnce();
    assert.deepEqual(await rowsOf("usage_hours"), []);
  });
});

describe("a deleted server's usage history", () => {
  let d: TestApp;
  let owner: Client;
  before(async () => {
    d = await startTestApp({ VPS_POWER_SYNC_MS: String(DAY) });
    owner = await d.newAccount();
  });
  after(() => d.close());

  it("deletes a deleted server's history with it", async () => {
    const doomed = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "doomed" });
    assert.equal(doomed.status, 201, doomed.text);
    await waitForStatus(owner, doomed.body.id, "active");
    await d.app.engine.powerSync.syncOnce();
    const count = async () =>
      Number(
        (
          await d.app.repos.db
            .selectFrom("usage_minutes")
            .select((s) => s.fn.countAll().as("n"))
            .where("server_id", "=", doomed.body.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    assert.ok((await count()) > 0);
    assert.equal((await owner.delete(`/api/v1/servers/${doomed.body.id}/`)).status, 204);
    const deadline = Date.now() + 10_000;
    while ((await count()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await count(), 0);
  });
});
