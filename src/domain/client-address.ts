import { isIPv6 } from "node:net";
import { formatIpv6, ipv6ToBigInt } from "./ip-range.ts";

/**
 * What failed authentications are counted under: an IPv4 address (also one mapped into IPv6) as it is, an IPv6
 * address by its /64, since one subscriber usually holds a whole /64 and could otherwise change address per try.
 */
export function clientAddressKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  const bare = ip.split("%")[0] ?? ip;
  if (!isIPv6(bare) || bare.includes(".")) return ip;
  return `${formatIpv6((ipv6ToBigInt(bare) >> 64n) << 64n)}/64`;
}
