import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/database.ts";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { createDriver } from "../../src/drivers/create-driver.ts";
import { driverNames } from "../../src/drivers/driver-registry.ts";

describe("the driver registry", () => {
  it("lets VPS_DRIVER name each registered driver, and createDriver builds that driver", async () => {
    assert.deepEqual([...driverNames].sort(), ["qemu", "sim"]);
    const database = await openDatabase(":memory:");
    try {
      for (const name of driverNames) {
        const config = loadConfig({ VPS_DRIVER: name, DATABASE_URL: ":memory:" });
        assert.equal(createDriver(config, new Repositories(database.db), systemClock).name, name);
      }
    } finally {
      await database.close();
    }
  });

  it("uses the sim driver when VPS_DRIVER is unset", () => {
    assert.equal(loadConfig({}).driver, "sim");
  });

  it("refuses an unknown VPS_DRIVER with a ConfigError that lists the registered drivers", () => {
    assert.throws(
      () => loadConfig({ VPS_DRIVER: "xen" }),
      (err: Error) =>
        err instanceof ConfigError && /VPS_DRIVER/.test(err.message) && /"xen"/.test(err.message)
          ? driverNames.every((name) => err.message.includes(name))
          : false,
    );
  });

  it("refuses a malformed VPS_SIM_FAULTS with a ConfigError when the sim driver is built", async () => {
    const database = await openDatabase(":memory:");
    try {
      const config = loadConfig({ VPS_SIM_FAULTS: "explode:1", DATABASE_URL: ":memory:" });
      assert.throws(
        () => createDriver(config, new Repositories(database.db), systemClock),
        (err: Error) => err instanceof ConfigError && /VPS_SIM_FAULTS.*unknown method/.test(err.message),
      );
    } finally {
      await database.close();
    }
  });

  it("gives the sim host the capacity VPS_SIM_HOST_CAPACITY names, and refuses a malformed one", async () => {
    const database = await openDatabase(":memory:");
    const call = { signal: AbortSignal.timeout(10_000), log: pino({ level: "silent" }) };
    try {
      const build = (env: Record<string, string>) =>
        createDriver(
          loadConfig({ DATABASE_URL: ":memory:", ...env }),
          new Repositories(database.db),
          systemClock,
        );
      assert.deepEqual(await build({}).inventory(call), {
        vcpus: 512,
        memoryMb: 2_097_152,
        diskGb: 100_000,
        images: null,
      });
      const small = build({ VPS_SIM_HOST_CAPACITY: "vcpus=8,memory=16384,disk=500" });
      assert.deepEqual(await small.inventory(call), {
        vcpus: 8,
        memoryMb: 16_384,
        diskGb: 500,
        images: null,
      });
      for (const bad of ["vcpus=8,gpus=1", "memory=-1", "disk=", "vcpus=0", "memory=2000000000"]) {
        assert.throws(
          () => loadConfig({ VPS_SIM_HOST_CAPACITY: bad }),
          (err: Error) => err instanceof ConfigError && /VPS_SIM_HOST_CAPACITY/.test(err.message),
          bad,
        );
      }
    } finally {
      await database.close();
    }
  });
});
