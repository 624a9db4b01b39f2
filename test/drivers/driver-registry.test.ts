import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
});
