import type { Db } from "../db/database.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver } from "./driver.ts";
import type { DriverSettings } from "./driver-registration.ts";
import { findDriver } from "./driver-registry.ts";

/**
 * The driver `VPS_DRIVER` names, built by its registered factory. `handles` is anything holding the
 * database: the Repositories or the opened database.
 */
export function createDriver(config: DriverSettings, handles: { db: Db }, clock: Clock): Driver {
  const registration = findDriver(config.driver);
  // loadConfig accepts only registered names; a Config built by hand may still name another.
  if (!registration) throw new Error(`no driver named "${config.driver}" is registered`);
  return registration.create({ config, db: handles.db, clock });
}
