import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { MachineSpec } from "../driver.ts";

const run = promisify(execFile);

// The cloud-init NoCloud seed: meta-data, user-data (#cloud-config) and network-config (version 2) on an
// ISO 9660 volume labelled `cidata`, which cloud-init (and the project's test image) reads at every boot.
// Every value written here was validated by the API (host names, keys, addresses), so plain YAML scalars are safe.

export type SeedNetwork =
  | { mode: "dhcp" }
  | {
      mode: "static";
      ipv4Prefix: number;
      ipv4Gateway: string | undefined;
      ipv6Prefix: number;
      ipv6Gateway: string | undefined;
      nameservers: string[];
    };

export interface SeedFiles {
  "meta-data": string;
  "user-data": string;
  "network-config": string;
}

/** The key's type and data without its comment: the comment is free text that YAML would have to quote. */
function bareKey(publicKey: string): string {
  return publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
}

export function renderSeed(spec: MachineSpec, mac: string, network: SeedNetwork): SeedFiles {
  const metaData = [`instance-id: vps-${spec.id}`, `local-hostname: ${spec.hostname}`, ""].join("\n");
  const userData = [
    "#cloud-config",
    `hostname: ${spec.hostname}`,
    `fqdn: ${spec.hostname}`,
    "preserve_hostname: false",
    // The host name asked for through the API is the guest's host name, dots and all.
    "prefer_fqdn_over_hostname: true",
    "disable_root: false",
    ...(spec.sshPublicKey ? ["ssh_authorized_keys:", `  - ${bareKey(spec.sshPublicKey)}`] : []),
    "",
  ].join("\n");
  const ethernet = [
    "version: 2",
    "ethernets:",
    "  eth0:",
    "    match:",
    `      macaddress: ${mac}`,
    "    set-name: eth0",
  ];
  if (network.mode === "dhcp") {
    ethernet.push("    dhcp4: true");
  } else {
    const addresses = [
      ...(spec.ipv4 ? [`${spec.ipv4}/${network.ipv4Prefix}`] : []),
      ...(spec.ipv6 ? [`${spec.ipv6}/${network.ipv6Prefix}`] : []),
    ];
    ethernet.push("    addresses:", ...addresses.map((a) => `      - ${a}`));
    if (network.ipv4Gateway) ethernet.push(`    gateway4: ${network.ipv4Gateway}`);
    if (network.ipv6Gateway && spec.ipv6) ethernet.push(`    gateway6: ${network.ipv6Gateway}`);
    if (network.nameservers.length > 0) {
      ethernet.push(
        "    nameservers:",
        "      addresses:",
        ...network.nameservers.map((n) => `        - ${n}`),
      );
    }
  }
  return { "meta-data": metaData, "user-data": userData, "network-config": `${ethernet.join("\n")}\n` };
}

/** Writes the seed files and packs them into `isoPath` with genisoimage, as cloud-localds does. */
export async function writeSeedIso(
  isoPath: string,
  files: SeedFiles,
  tool: string,
  signal: AbortSignal,
): Promise<void> {
  const dir = `${isoPath}.d`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    await run(
      tool,
      ["-quiet", "-output", isoPath, "-volid", "cidata", "-joliet", "-rock", ...Object.keys(files)],
      { cwd: dir, signal },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
