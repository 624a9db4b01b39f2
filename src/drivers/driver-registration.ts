import type { Db } from "../db/database.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver } from "./driver.ts";
import type { QemuConfig } from "./qemu/qemu-config.ts";
import type { SimCapacity } from "./sim/sim-driver.ts";

/**
 * The settings drivers read, a part of the Config that config.ts builds: declared here, so that the drivers
 * depend on no module above them.
 */
export interface DriverSettings {
  driver: string;
  simDelayMs: number;
  simFaults: string;
  simHostCapacity: SimCapacity;
  qemu: QemuConfig;
}

/** What a driver's factory is given: the drivers' settings and the process's handles. */
export interface DriverContext {
  config: DriverSettings;
  /** The control plane's database; a driver that keeps state in it (sim) builds its own store over it. */
  db: Db;
  clock: Clock;
}

/** A driver as `VPS_DRIVER` names it, and how to build it. */
export interface DriverRegistration<Name extends string = string> {
  name: Name;
  create(context: DriverContext): Driver;
}
