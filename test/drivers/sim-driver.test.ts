import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { openDatabase } from "../../src/db/database.ts";
import { systemClock } from "../../src/domain/clock.ts";
import type { DriverError } from "../../src/drivers/driver.ts";
import { SimDriver } from "../../src/drivers/sim/sim-driver.ts";
import { SimFaults } from "../../src/drivers/sim/sim-faults.ts";
import { SimMachineStore } from "../../src/drivers/sim/sim-machine-store.ts";
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
