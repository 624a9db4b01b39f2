import { type Config, ConfigError } from "../config.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver } from "./driver.ts";
import { SimDriver } from "./sim/sim-driver.ts";
import { SimFaults } from "./sim/sim-faults.ts";

export function createDriver(config: Config, repos: Repositories, clock: Clock): Driver {
  if (config.driver === "qemu") {
    throw new ConfigError("VPS_DRIVER=qemu is not available in this version yet; use sim.");
  }
  let faults: SimFaults;
  try {
    faults = SimFaults.parse(config.simFaults);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return new SimDriver({ machines: repos.simMachines, clock, delayMs: config.simDelayMs, faults });
}
