import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { backupSurchargeMinor, GB_BYTES, snapshotHourMinor } from "../../src/domain/backup-prices.ts";
import { queueImageCopy } from "../../src/engine/queue-image-copy.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const HOUR = 3_600_000;

describe("what backups and snapshots cost", () => {
  it("carries fractions of a cent from hour to hour instead of rounding each away", () => {
    // 20% of 0.03 an hour is 0.006: 6 cents in any 10 hours, 60 in any 100.
    const from = Date.parse("2030-01-01T00:17:00.000Z");
    let ten = 0;
    let hundred = 0;
    for (let h = 0; h < 100; h++) {
      const charge = backupSurchargeMinor(3, 20, new Date(from + h * HOUR).toISOString());
      assert.ok(charge === 0 || charge === 1);
      if (h < 10) ten += charge;
      hundred += charge;
    }
    assert.equal(ten, 6);
    assert.equal(hundred, 60);
    // 40 GB at 0.01 a GB-month (672 hours): 0.40 a month, 0.10 a week.
    let week = 0;
    for (let h = 0; h < 168; h++)
      week += snapshotHourMinor(40 * GB_BYTES, 1, new Date(from + h * HOUR).toISOString());
    assert.equal(week, 10);
  });
});

describe("billing backups and snapshots", () => {
  // Each test has a service of its own, whose clock it moves: hours go by for every server at once.
  let t: TestApp;
  let clock: SettableClock;
  beforeEach(async () => {
    clock = new SettableClock();
    t = await startTestApp({ VPS_BACKUP_PRICE_PERCENT: "20", VPS_SNAPSHOT_PRICE_GB_MONTH: "0.01" }, clock);
  });
  afterEach(() => t.close());

  const repos = () => t.app.services.repos;
  const balance = async (api: { get(path: string): Promise<{ body: { balance: string } }> }) =>
    Math.round(Number((await api.get("/api/v1/account/")).body.balance) * 100);
  it("charges the backup surcharge with each hour of a server with backups on", async () => {
    const api = await t.newAccount("10.00");
    await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "on" });
    await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "off", backups_enabled: false });
    const before = await balance(api);
    clock.advance(10 * HOUR);
    const [a, b] = await Promise.all([t.app.engine.billing.runOnce(), t.app.engine.billing.runOnce()]);
    assert.equal(a.charged + b.charged, 20);
    // Ten hours of two plans at 0.03, and ten of the surcharge at 0.006.
    assert.equal(before - (await balance(api)), 2 * 30 + 6);
  });

  it("charges each available snapshot's storage once an hour, whoever runs the cycle, and never backups'", async () => {
    const api = await t.newAccount("10.00");
    const id = (await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, backups_enabled: false })).body.id;
    const server = await repos().servers.findById(id);
    assert.ok(server);
    const weekAgo = new Date(clock.now().getTime() - 168 * HOUR).toISOString();
    for (const type of ["snapshot", "backup"] as const) {
      const { image } = await repos().transaction((tx) =>
        queueImageCopy(tx, { server, type, name: null, maxAttempts: 1, now: weekAgo }),
      );
      await repos().images.markAvailable(
        image.id,
        { sizeBytes: 40 * GB_BYTES, sha256: "ab".repeat(32), consistency: "crash" },
        weekAgo,
      );
    }
    // The server's own hours are paid ahead; only the snapshot is due.
    const before = await balance(api);
    await Promise.all([t.app.engine.billing.runOnce(), t.app.engine.billing.runOnce()]);
    assert.equal(before - (await balance(api)), 10, "a week of 40 GB at 0.01 a GB-month");
    await t.app.engine.billing.runOnce();
    assert.equal(before - (await balance(api)), 10, "nothing twice");
    const paid = await repos()
      .db.selectFrom("images")
      .select(["type", "billed_until"])
      .where("server_id", "=", id)
      .execute();
    const snapshot = paid.find((image) => image.type === "snapshot");
    assert.ok(
      Date.parse(snapshot?.billed_until ?? "") > clock.now().getTime() - 3_600_000,
      "paid up to the last hour",
    );
    assert.equal(
      paid.find((image) => image.type === "backup")?.billed_until,
      null,
      "backups are in the surcharge",
    );
  });
});
