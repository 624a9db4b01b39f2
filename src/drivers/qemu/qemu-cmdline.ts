import type { Accel } from "./accel-probe.ts";

export type NetworkAttachment =
  | {
      mode: "user";
      hostfwdAddress: string;
      sshPort: number;
      /** The traffic meter's pcap files (traffic-meter.ts) and the netdev queue each records. */
      meter: { file: string; queue: "rx" | "tx" }[];
    }
  | { mode: "bridge"; tap: string };

export interface VmLaunch {
  id: string;
  accel: Accel;
  vcpus: number;
  memoryMb: number;
  disk: string;
  seed: string;
  mac: string;
  network: NetworkAttachment;
  qmpSocket: string;
  /** The host's end of the guest agent's virtio-serial channel. */
  qgaSocket: string;
  pidFile: string;
  /** The serial port's socket, where a console connects; what the guest writes is also appended to `consoleLog`. */
  serialSocket: string;
  consoleLog: string;
}

/**
 * The arguments of qemu-system-x86_64 for one VM: daemonised, with a QMP socket, a guest agent channel, a pidfile
 * and a serial port on a socket, logged to a file. The main disk's drive is `disk0`, the name block jobs (backups, snapshots) address it by.
 */
export function qemuArgs(vm: VmLaunch): string[] {
  const netdev =
    vm.network.mode === "user"
      ? `user,id=net0,hostfwd=tcp:${vm.network.hostfwdAddress}:${vm.network.sshPort}-:22`
      : `tap,id=net0,ifname=${vm.network.tap},script=no,downscript=no`;
  // One byte of each frame is enough: the meter reads only the frame lengths of the records.
  const meter =
    vm.network.mode === "user"
      ? vm.network.meter.flatMap(({ file, queue }) => [
          "-object",
          `filter-dump,id=meter-${queue},netdev=net0,queue=${queue},file=${file},maxlen=1`,
        ])
      : [];
  return [
    "-name",
    `vps-${vm.id},process=vps-${vm.id}`,
    "-machine",
    "pc",
    "-accel",
    vm.accel,
    ...(vm.accel === "kvm" ? ["-cpu", "host"] : []),
    "-smp",
    String(vm.vcpus),
    "-m",
    String(vm.memoryMb),
    "-drive",
    `file=${vm.disk},if=virtio,format=qcow2,discard=unmap,id=disk0`,
    "-drive",
    `file=${vm.seed},if=virtio,format=raw,readonly=on`,
    "-netdev",
    netdev,
    "-device",
    `virtio-net-pci,netdev=net0,mac=${vm.mac}`,
    ...meter,
    "-qmp",
    `unix:${vm.qmpSocket},server=on,wait=off`,
    // qemu-guest-agent in the guest opens the port by this name; a guest without one leaves it closed.
    "-chardev",
    `socket,id=qga0,path=${vm.qgaSocket},server=on,wait=off`,
    "-device",
    "virtio-serial-pci",
    "-device",
    "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
    // The serial port is a socket a console connects to (one at a time; with none, output is dropped but still
    // logged), and everything the guest writes goes on to console.log as before.
    "-chardev",
    `socket,id=serial0,path=${vm.serialSocket},server=on,wait=off,logfile=${vm.consoleLog},logappend=on`,
    "-serial",
    "chardev:serial0",
    "-display",
    "none",
    "-monitor",
    "none",
    "-daemonize",
    "-pidfile",
    vm.pidFile,
  ];
}

/** A locally administered MAC in QEMU's range, derived from the server id so it is the same at every start. */
export function macFor(id: string): string {
  const n = Number(id) >>> 0;
  const bytes = [0x52, 0x54, 0x00, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}
