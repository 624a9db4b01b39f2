import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { DriverCall, SshEndpoint } from "../driver.ts";
import type { SeedNetwork } from "./cloud-init-seed.ts";
import type { NetworkAttachment } from "./qemu-cmdline.ts";
import { runTool } from "./run-tool.ts";
import { METER_QUEUES, type Traffic, type TrafficMeter } from "./traffic-meter.ts";
import type { VmRecord } from "./vm-directory.ts";

export type QemuNetwork =
  | { mode: "user"; hostfwdAddress: string }
  | ({ mode: "bridge"; bridge: string } & Omit<Extract<SeedNetwork, { mode: "static" }>, "mode">);

/**
 * The host side of the VMs' networking. User mode: QEMU's own NAT, the guest's SSH forwarded to a free port
 * on `hostfwdAddress`, DHCP in the guest, its traffic counted by the TrafficMeter. Bridge mode: a tap per VM on
 * the bridge, the server's own addresses written into the guest's network-config, its traffic the tap's counters.
 */
export class HostNetwork {
  readonly #network: QemuNetwork;
  readonly #meter: TrafficMeter;

  constructor(network: QemuNetwork, meter: TrafficMeter) {
    this.#network = network;
    this.#meter = meter;
  }

  /** What the cloud-init seed tells the guest about its network. */
  seedNetwork(): SeedNetwork {
    const network = this.#network;
    return network.mode === "user" ? { mode: "dhcp" } : { ...network, mode: "static" };
  }

  /** The forwarded SSH port of a new VM; null on a bridge, where the guest is reached at its own address. */
  async newSshPort(): Promise<number | null> {
    return this.#network.mode === "user" ? await freePort(this.#network.hostfwdAddress) : null;
  }

  /**
   * Prepares the host for a VM about to start and says how QEMU attaches it. In user mode the forwarded port
   * may have been taken while the VM was off: then it moves to a free one, and `sshPort` tells the new one.
   */
  async attach(
    record: VmRecord,
    call: DriverCall,
  ): Promise<{ attachment: NetworkAttachment; sshPort: number | null }> {
    const network = this.#network;
    if (network.mode === "bridge") {
      const tap = await ensureTap(record.id, network.bridge, call);
      return { attachment: { mode: "bridge", tap }, sshPort: record.sshPort };
    }
    let sshPort = record.sshPort;
    if (sshPort === null || !(await portFree(network.hostfwdAddress, sshPort))) {
      sshPort = await freePort(network.hostfwdAddress);
    }
    await this.#meter.restart(record.id, call.signal);
    const meter = (["in", "out"] as const).map((direction) => ({
      file: this.#meter.file(record.id, direction),
      queue: METER_QUEUES[direction],
    }));
    return { attachment: { mode: "user", hostfwdAddress: network.hostfwdAddress, sshPort, meter }, sshPort };
  }

  /** Removes what attach made on the host (a bridge's tap); nothing to undo in user mode. */
  async detach(id: string, call: DriverCall): Promise<void> {
    if (this.#network.mode === "bridge") {
      await runTool("ip", ["link", "delete", tapName(id)], call.signal).catch(() => undefined);
    }
  }

  /**
   * The bytes the VM received and sent: its tap's counters on a bridge (the tap's transmit is the guest's
   * receive), the meter's totals in user mode. Both go on across the VM's restarts.
   */
  traffic(id: string, call: DriverCall): Promise<Traffic> {
    if (this.#network.mode === "user") return this.#meter.totals(id, call.signal);
    const tap = tapName(id);
    return Promise.resolve({ inBytes: tapCounter(tap, "tx_bytes"), outBytes: tapCounter(tap, "rx_bytes") });
  }

  endpoint(record: VmRecord): SshEndpoint | null {
    if (this.#network.mode === "user") {
      return record.sshPort === null ? null : { host: this.#network.hostfwdAddress, port: record.sshPort };
    }
    return record.ipv4 ? { host: record.ipv4, port: 22 } : null;
  }
}

async function ensureTap(id: string, bridge: string, call: DriverCall): Promise<string> {
  const tap = tapName(id);
  if (!existsSync(`/sys/class/net/${tap}`)) {
    await runTool("ip", ["tuntap", "add", "dev", tap, "mode", "tap"], call.signal);
  }
  await runTool("ip", ["link", "set", tap, "master", bridge, "up"], call.signal);
  return tap;
}

function tapName(id: string): string {
  return `vps${id}`;
}

function tapCounter(tap: string, name: "rx_bytes" | "tx_bytes"): number {
  try {
    return Number(readFileSync(`/sys/class/net/${tap}/statistics/${name}`, "utf8"));
  } catch {
    return 0;
  }
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once("error", () => resolvePort(false));
    server.listen(port, host, () => server.close(() => resolvePort(true)));
  });
}

/** A port the OS considers free right now, for the guest's forwarded SSH port. */
function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolvePort(address.port) : reject(new Error("no port")),
      );
    });
  });
}
