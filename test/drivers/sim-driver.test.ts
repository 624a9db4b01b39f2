import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { openDatabase } from "../../src/db/database.ts";
import { systemClock } from "../../src/domain/clock.ts";
import type { DriverError } from "../../src/drivers/driver.ts";
import { SimDriver } from "../../src/drivers/sim/sim-driver.ts";
import { SimFaults } from "../../src/drivers/sim/sim-faults.ts";
import { SimMachineStore } from "../../src/drivers/sim/sim-machine-store.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";
import { driverContract } from "./driver-contract.ts";

const spec = (id: string) => ({
  id,
  hostname: `vm-${id}.example.com`,
  vcpus: 2,
  memoryMb: 4096,
  storageGb: 80,
  image: "debian-12.qcow2",
  sshPublicKey: null,
  ipv4: "203.0.113.10",
  ipv6: null,
});

async function simDriver(faults = new SimFaults()) {
  const database = await openDatabase(":memory:");
  const driver = new SimDriver({
    machines: new SimMachineStore(database.db),
    clock: systemClock,
    delayMs: 5,
    faults,
  });
  return { driver, spec, close: () => database.close() };
}

driverContract("sim", () => simDriver());

/** With no transition time the driver checks and changes a machine in one statement: on the suite's backend. */
async function instantSimDriver() {
  const dir = mkdtempSync(join(tmpdir(), "vps-sim-"));
  const url = await freshDatabaseUrl(dir);
  const database = await openDatabase(url);
  const machines = new SimMachineStore(database.db);
  const driver = new SimDriver({ machines, clock: systemClock, delayMs: 0 });
  return {
    driver,
    machines,
    spec,
    close: async () => {
      await database.close();
      await dropDatabase(url);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

driverContract("sim with no transition time", () => instantSimDriver());

describe("sim driver with no transition time", () => {
  const call = () => ({ signal: new AbortController().signal, log: pino({ level: "silent" }) });

  it("boots a machine once however often it is started, and a second create keeps its disk", async () => {
    const { driver, machines, close } = await instantSimDriver();
    try {
      await driver.create(spec("7001"), call());
      const disk = (await driver.exportDisk("7001", call())).sha256;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await driver.create(spec("7001"), call());
      assert.equal((await driver.exportDisk("7001", call())).sha256, disk);
      await driver.create(spec("7002"), call());
      assert.notEqual((await driver.exportDisk("7002", call())).sha256, disk);
      await driver.start("7001", call());
      await driver.start("7001", call());
      assert.equal((await machines.find("7001"))?.boot_count, 1);
      await driver.shutdown("7001", { timeoutMs: 1000 }, call());
      await driver.start("7001", call());
      assert.equal((await machines.find("7001"))?.boot_count, 2);
      assert.equal(await driver.info("7001"), "running");
    } finally {
      await close();
    }
  });
});

describe("sim driver faults", () => {
  const call = () => ({ signal: new AbortController().signal, log: pino({ level: "silent" }) });

  it("reads VPS_SIM_FAULTS: N transient failures, always, or permanent", async () => {
    const { driver, close } = await simDriver(SimFaults.parse("create:2, start:permanent"));
    try {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(driver.create(spec("1"), call()), (e: DriverError) => !e.permanent);
      }
      await driver.create(spec("1"), call());
      await assert.rejects(driver.start("1", call()), (e: DriverError) => e.permanent);
    } finally {
      await close();
    }
  });

  it("refuses a malformed fault list", () => {
    assert.throws(() => SimFaults.parse("explode:1"), /unknown method/);
    assert.throws(() => SimFaults.parse("create:often"), /method:N/);
  });
});

describe("sim driver traffic", () => {
  const call = () => ({ signal: new AbortController().signal, log: pino({ level: "silent" }) });

  it("counts bytes received and sent apart, sending more than it receives, and keeps them over a power-off", async () => {
    const database = await openDatabase(":memory:");
    const clock = new SettableClock();
    const driver = new SimDriver({ machines: new SimMachineStore(database.db), clock, delayMs: 0 });
    try {
      await driver.create(spec("7"), call());
      await driver.start("7", call());
      clock.advance(60_000);
      const running = await driver.stats("7");
      assert.ok(running && running.netInBytes > 0 && running.netOutBytes > running.netInBytes);
      await driver.stop("7");
      clock.advance(60_000);
      await driver.start("7", call());
      const restarted = await driver.stats("7");
      assert.ok(restarted);
      // The minute off counted nothing (only the milliseconds the test itself took): the counters go on from there.
      for (const key of ["netInBytes", "netOutBytes"] as const) {
        const grown = restarted[key] - running[key];
        assert.ok(grown >= 0 && grown < running[key] / 100, `${key} grew ${grown} while off`);
      }
      clock.advance(60_000);
      const later = await driver.stats("7");
      assert.ok(later && later.netInBytes > running.netInBytes && later.netOutBytes > running.netOutBytes);
    } finally {
      await database.close();
    }
  });
});

describe("sim driver counters over a power-off, on the suite's backend", () => {
  const call = () => ({ signal: new AbortController().signal, log: pino({ level: "silent" }) });

  it("keeps exactly the CPU time and bytes a machine showed when it was stopped or shut down", async () => {
    const { machines, close } = await instantSimDriver();
    // A clock that moves only when told, so that the counters read just before a power-off are exact.
    let at = Date.parse("2026-03-01T00:00:00.000Z");
    const clock = { now: () => new Date(at) };
    const frozen = new SimDriver({ machines, clock, delayMs: 0 });
    try {
      for (const id of ["11", "12", "13"]) {
        await frozen.create(spec(id), call());
        await frozen.start(id, call());
      }
      for (const upMs of [1, 61_237, 3_723_457]) {
        at += upMs;
        for (const [id, off] of [
          ["11", () => frozen.stop("11")],
          ["12", () => frozen.shutdown("12", { timeoutMs: 1_000 }, call())],
          ["13", () => frozen.stop("13")],
        ] as const) {
          const running = await frozen.stats(id);
          assert.ok(running && running.cpuTimeNs > 0);
          await off();
          assert.equal(await frozen.info(id), "stopped");
          // Stopped again: nothing changes.
          await off();
          await frozen.start(id, call());
          const { cpuTimeNs, netInBytes, netOutBytes } = (await frozen.stats(id)) ?? {};
          assert.deepEqual(
            { cpuTimeNs, netInBytes, netOutBytes },
            {
              cpuTimeNs: running.cpuTimeNs,
              netInBytes: running.netInBytes,
              netOutBytes: running.netOutBytes,
            },
            `machine ${id} after ${upMs} ms`,
          );
        }
      }
      await assert.rejects(frozen.stop("99"), (e: DriverError) => e.code === "machine_missing");
    } finally {
      await close();
    }
  });
});
