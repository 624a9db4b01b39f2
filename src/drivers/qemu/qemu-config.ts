/** The qemu driver's settings, as config.ts reads them from `VPS_QEMU_*`. */
export interface QemuConfig {
  vmDir: string;
  imageDir: string;
  binary: string;
  img: string;
  isoTool: string;
  accel: "kvm" | "tcg" | undefined;
  network: "user" | "bridge";
  hostfwdAddress: string;
  bridge: string;
  ipv4Prefix: number;
  ipv4Gateway: string | undefined;
  ipv6Prefix: number;
  ipv6Gateway: string | undefined;
  nameservers: string[];
}
