import { ConfigError } from "../../config-error.ts";
import type { DriverRegistration } from "../driver-registration.ts";
import { SimDriver } from "./sim-driver.ts";
import { SimFaults } from "./sim-faults.ts";
import { SimMachineStore } from "./sim-machine-store.ts";

export const simDriverRegistration: DriverRegistration<"sim"> = {
  name: "sim",
  create({ config, db, clock }) {
    let faults: SimFaults;
    try {
      faults = SimFaults.parse(config.simFaults);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
    return new SimDriver({
      machines: new SimMachineStore(db),
      clock,
      delayMs: config.simDelayMs,
      faults,
      capacity: config.simHostCapacity,
    });
  },
};
