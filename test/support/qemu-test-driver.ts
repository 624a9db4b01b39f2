import type { DriverCall, MachineSpec, SshEndpoint } from "../../src/drivers/driver.ts";
import { QemuDriver, type QemuDriverOptions } from "../../src/drivers/qemu/qemu-driver.ts";
import { qemuTestImage } from "./qemu-test-image.ts";
import { type KeyPair, sshWhenReady } from "./ssh.ts";

/**
 * The qemu driver over the test image (scripts/build-test-image.sh), its VMs in `vmDir`, under TCG on user-mode
 * networking with SSH forwarded on 127.0.0.1; `options` add to these or replace them (a bench's `accel`).
 */
export function qemuTestDriver(vmDir: string, options: Partial<QemuDriverOptions> = {}): QemuDriver {
  return new QemuDriver({
    vmDir,
    imageDir: options.imageDir ?? qemuTestImage().dir,
    qemuBinary: "qemu-system-x86_64",
    qemuImg: "qemu-img",
    isoTool: "genisoimage",
    accel: "tcg",
    network: { mode: "user", hostfwdAddress: "127.0.0.1" },
    ...options,
  });
}

/** A machine booted from the test image: 1 vCPU, 256 MB, a 2 GB disk, no addresses of its own, unless `spec` says. */
export function testImageSpec(id: string, spec: Partial<MachineSpec> = {}): MachineSpec {
  return {
    id,
    hostname: `vm${id}.example.com`,
    vcpus: 1,
    memoryMb: 256,
    storageGb: 2,
    image: "vps-test.qcow2",
    sshPublicKey: null,
    ipv4: null,
    ipv6: null,
    ...spec,
  };
}

/** Starts a created VM and waits until `key` logs in over SSH; where its SSH is forwarded. */
export async function bootToSsh(
  driver: QemuDriver,
  id: string,
  key: KeyPair,
  call: DriverCall,
): Promise<SshEndpoint> {
  await driver.start(id, call);
  const endpoint = await driver.endpoint(id);
  if (!endpoint) throw new Error(`VM ${id} has no SSH endpoint`);
  await sshWhenReady(endpoint.host, endpoint.port, key, "true");
  return endpoint;
}
