import type { DriverRegistration } from "./driver-registration.ts";
import { qemuDriverRegistration } from "./qemu/qemu-driver-registration.ts";
import { simDriverRegistration } from "./sim/sim-driver-registration.ts";

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
