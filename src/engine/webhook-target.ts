import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

// Where a webhook may be delivered. Public unicast addresses only unless the operator allows more: a customer's
// URL must not reach the provider's own network (loopback, private and link-local ranges, the cloud metadata
// address, the provider's own network: OwnNetwork). Every address the host resolves to is checked, and the
// connection goes to a checked address, never to a second lookup's (DNS rebinding).

const DENIED_V4 = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
];
const DENIED_V6 = [
  "::/127",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "100::/64",
  "2001::/23",
  "2001:db8::/32",
  "2002::/16",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
];

/** The CIDR blocks, IPv4 and IPv6 alike, as one list to check addresses against. */
export function blockList(...blocks: readonly (readonly string[])[]): BlockList {
  const list = new BlockList();
  for (const block of blocks.flat()) addBlock(list, block);
  return list;
}

export function addBlock(list: BlockList, cidr: string): void {
  const [ip = "", prefix = ""] = cidr.split("/");
  list.addSubnet(ip, Number(prefix), isIP(ip) === 6 ? "ipv6" : "ipv4");
}

const denied = blockList(DENIED_V4, DENIED_V6);

/** An IPv4 address written as IPv6 (::ffff:a.b.c.d) is checked as the IPv4 address it is. */
function unmapped(address: string): { address: string; family: 4 | 6 } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return { address: mapped[1], family: 4 };
  return { address, family: isIP(address) === 6 ? 6 : 4 };
}

export interface TargetPolicy {
  /** The operator's VPS_WEBHOOK_ALLOWED_NETWORKS (blockList): reachable whatever else is said. */
  allowed: BlockList;
  /** The provider's own network (its pools' blocks, its hosts, the control plane): refused unless allowed. */
  ownNetwork: BlockList;
  /** Resolves a host name to every address it has (tests resolve names to what they like). */
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

export type Target = { address: string; family: 4 | 6 } | { refused: string };

/** The address a delivery to `url` connects to, or why none may be reached. */
export async function webhookTarget(url: URL, policy: TargetPolicy): Promise<Target> {
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { refused: "only http and https are delivered to" };
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: LookupAddress[];
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await (policy.resolve ?? ((h) => lookup(h, { all: true, verbatim: true })))(host);
    } catch (err) {
      return { refused: `${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? "error"})` };
    }
  }
  if (addresses.length === 0) return { refused: `${host} has no address` };
  for (const found of addresses) {
    const { address, family } = unmapped(found.address);
    const type = family === 6 ? "ipv6" : "ipv4";
    if (policy.allowed.check(address, type)) continue;
    if (denied.check(address, type) || policy.ownNetwork.check(address, type)) {
      return { refused: `${host} resolves to ${address}, which webhooks may not reach` };
    }
  }
  const first = unmapped(addresses[0]?.address ?? "");
  return first;
}
