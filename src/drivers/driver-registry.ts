import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver } from "./driver.ts";
import { qemuDriverRegistration } from "./qemu/qemu-driver-registration.ts";
import { simDriverRegistration } from "./sim/sim-driver-registration.ts";

/** What a driver's factory is given: the whole config (it reads its own settings) and the process's handles. */
export interface DriverContext {
  config: Config;
  /** The control plane's database; a driver that keeps state in it (sim) builds its own store over it. */
  db: Db;
  clock: Clock;
}

/** A driver as `VPS_DRIVER` names it, and how to build it. */
export interface DriverRegistration<Name extends string = string> {
  name: Name;
  create(context: DriverContext): Driver;
}

// A new driver is one more line here; config.ts and createDriver take their names and factories from it.
const registrations = [simDriverRegistration, qemuDriverRegistration] as const;

export type DriverName = (typeof registrations)[number]["name"];

/** The values `VPS_DRIVER` accepts. */
export const driverNames: readonly DriverName[] = registrations.map((r) => r.name);

/** The driver when `VPS_DRIVER` is unset: the simulated one, so the project runs anywhere. */
export const defaultDriverName: DriverName = simDriverRegistration.name;

export function findDriver(name: string): DriverRegistration | undefined {
  return registrations.find((r) => r.name === name);
}
