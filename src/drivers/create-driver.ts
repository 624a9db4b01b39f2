import { resolve } from "node:path";
import { type Config, ConfigError } from "../config.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import type { Driver } from "./driver.ts";
import { QemuDriver } from "./qemu/qemu-driver.ts";
import { SimDriver } from "./sim/sim-driver.ts";
import { SimFaults } from "./sim/sim-faults.ts";

export function createDriver(config: Config, repos: Repositories, clock: Clock): Driver {
  if (config.driver === "qemu") {
    const q = config.qemu;
    return new QemuDriver({
      vmDir: resolve(q.vmDir),
      imageDir: resolve(q.imageDir),
      qemuBinary: q.binary,
      qemuImg: q.img,
      isoTool: q.isoTool,
      accel: q.accel,
      network:
        q.network === "user"
          ? { mode: "user", hostfwdAddress: q.hostfwdAddress }
          : {
              mode: "bridge",
              bridge: q.bridge,
              ipv4Prefix: q.ipv4Prefix,
              ipv4Gateway: q.ipv4Gateway,
              ipv6Prefix: q.ipv6Prefix,
              ipv6Gateway: q.ipv6Gateway,
              nameservers: q.nameservers,
            },
    });
  }
  let faults: SimFaults;
  try {
    faults = SimFaults.parse(config.simFaults);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return new SimDriver({ machines: repos.simMachines, clock, delayMs: config.simDelayMs, faults });
}
