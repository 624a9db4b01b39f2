import { resolve } from "node:path";
import type { DriverRegistration } from "../driver-registration.ts";
import { QemuDriver } from "./qemu-driver.ts";

export const qemuDriverRegistration: DriverRegistration<"qemu"> = {
  name: "qemu",
  create({ config }) {
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
  },
};
