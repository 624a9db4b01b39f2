import { isIPv4, isIPv6 } from "node:net";

// Address pools are written as CIDR blocks; each host address becomes one row of the pool.

export interface AddressBlock {
  family: 4 | 6;
  /** The block as written, normalised to its network address ("203.0.113.7/24" is "203.0.113.0/24"). */
  cidr: string;
  addresses: string[];
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export function ipv6ToBigInt(ip: string): bigint {
  const [head = "", tail] = ip.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [...headParts, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) + BigInt(Number.parseInt(part, 16)), 0n);
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of zero groups shortened to "::". */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/**
 * The host addresses of a CIDR block, at most `limit` of them. For IPv4 the network and broadcast
 * addresses are left out (except in /31 and /32); for IPv6 the subnet-router anycast address (all zeros) is.
 */
export function expandCidr(cidr: string, limit: number): AddressBlock | { error: string } {
  const [ip = "", prefixText] = cidr.split("/");
  const prefix = Number(prefixText);
  if (isIPv4(ip)) {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) return { error: "IPv4 prefix must be 0-32." };
    const size = 2 ** (32 - prefix);
    const base = ipv4ToInt(ip) - (ipv4ToInt(ip) % size);
    const [first, last] = prefix >= 31 ? [base, base + size - 1] : [base + 1, base + size - 2];
    if (last - first + 1 > limit) return { error: `Block holds more than ${limit} addresses.` };
    const addresses: string[] = [];
    for (let n = first; n <= last; n++) addresses.push(intToIpv4(n));
    return { family: 4, cidr: `${intToIpv4(base)}/${prefix}`, addresses };
  }
  if (isIPv6(ip) && !ip.includes(".")) {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128)
      return { error: "IPv6 prefix must be 0-128." };
    const size = 1n << BigInt(128 - prefix);
    const base = ipv6ToBigInt(ip) - (ipv6ToBigInt(ip) % size);
    const first = prefix === 128 ? base : base + 1n;
    const count = size - (first - base);
    if (count > BigInt(limit)) return { error: `Block holds more than ${limit} addresses.` };
    const addresses: string[] = [];
    for (let n = 0n; n < count; n++) addresses.push(formatIpv6(first + n));
    return { family: 6, cidr: `${formatIpv6(base)}/${prefix}`, addresses };
  }
  return { error: "Must be an IPv4 or IPv6 block in CIDR notation, such as 203.0.113.0/24." };
}

/**
 * The blocks that held a pool's addresses, recovered from the addresses alone: each run of consecutive ones becomes
 * the smallest CIDR block that contains it (a block's network and broadcast addresses, never pooled, split runs).
 */
export function blocksHolding(family: 4 | 6, addresses: readonly string[]): string[] {
  const bits = family === 4 ? 32 : 128;
  const values = [
    ...new Set(addresses.map((a) => (family === 4 ? BigInt(ipv4ToInt(a)) : ipv6ToBigInt(a)))),
  ].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const blocks: string[] = [];
  let start = values[0];
  for (let i = 0; start !== undefined && i < values.length; i++) {
    const value = values[i] ?? 0n;
    const next = values[i + 1];
    if (next === value + 1n) continue;
    const differing = (start ^ value).toString(2).length - (start === value ? 1 : 0);
    const base = (start >> BigInt(differing)) << BigInt(differing);
    const text = family === 4 ? intToIpv4(Number(base)) : formatIpv6(base);
    blocks.push(`${text}/${bits - differing}`);
    start = next;
  }
  return blocks;
}
