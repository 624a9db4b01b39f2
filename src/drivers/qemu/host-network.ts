import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { DriverCall, SshEndpoint } from "../driver.ts";
import type { SeedNetwork } from "./cloud-init-seed.ts";
import type { NetworkAttachment } from "./qemu-cmdline.ts";
import { runTool } from "./run-tool.ts";
import type { VmRecord } from "./vm-directory.ts";

export type QemuNetwork =
  | { mode: "user"; hostfwdAddress: string }
  | ({ mode: "bridge"; bridge: string } & Omit<Extract<SeedNetwork, { mode: "static" }>, "mode">);

/**
 * The host side of the VMs' networking. User mode: QEMU's own NAT, the guest's SSH forwarded to a free port
 * on `hostfwdAddress`, DHCP in the guest. Bridge mode: a tap per VM on the bridge, the server's own addresses
 * written into the guest's network-config.
 */
export class HostNetwork {
  readonly #network: QemuNetwork;

  constructor(network: QemuNetwork) {
    this.#network = network;
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
    return { attachment: { mode: "user", hostfwdAddress: network.hostfwdAddress, sshPort }, sshPort };
  }

  /** Removes what attach made on the host (a bridge's tap); nothing to undo in user mode. */
  async detach(id: string, call: DriverCall): Promise<void> {
    if (this.#network.mode === "bridge") {
      await runTool("ip", ["link", "delete", tapName(id)], call.signal).catch(() => undefined);
    }
  }

  /** Bytes the VM sent and received, counted on its tap; 0 in user mode, where the host cannot count them. */
  netBytes(id: string): number {
    return this.#network.mode === "bridge" ? tapBytes(tapName(id)) : 0;
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

function tapBytes(tap: string): number {
  try {
    const read = (name: string) => Number(readFileSync(`/sys/class/net/${tap}/statistics/${name}`, "utf8"));
    return read("rx_bytes") + read("tx_bytes");
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
