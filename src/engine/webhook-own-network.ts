import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { Clock } from "../domain/clock.ts";
import { addBlock } from "./webhook-target.ts";

export interface OwnNetworkOptions {
  repos: Repositories;
  clock: Clock;
  /** The control plane's listen address (HOST): a wildcard stands for every address of this machine. */
  listenHost: string;
  /** How long a host name's addresses are used before it is looked up again. */
  namesTtlMs: number;
  resolve?: (host: string) => Promise<LookupAddress[]>;
}

/**
 * The provider's own network, which webhooks may not reach unless the operator allows it: every address of its
 * pools' CIDR blocks (assigned or not), its hosts' agents (their transfer URLs) and the control plane's own listen
 * address. Read once per batch of claimed deliveries (two reads of small tables), not per delivery; the names
 * among them are looked up at most once per `namesTtlMs`.
 */
export class OwnNetwork {
  readonly #o: OwnNetworkOptions;
  readonly #names = new Map<string, { addresses: string[]; until: number }>();

  constructor(options: OwnNetworkOptions) {
    this.#o = options;
  }

  async load(): Promise<BlockList> {
    const { repos, listenHost } = this.#o;
    const list = new BlockList();
    for (const cidr of await repos.addresses.blocks()) addBlock(list, cidr);
    const hosts = (await repos.hosts.transferUrls()).flatMap((url) => {
      try {
        return [new URL(url).hostname.replace(/^\[(.*)\]$/, "$1")];
      } catch {
        return [];
      }
    });
    if (listenHost === "0.0.0.0" || listenHost === "::" || listenHost === "") {
      for (const nets of Object.values(networkInterfaces()))
        for (const net of nets ?? []) hosts.push(net.address.replace(/%.*$/, ""));
    } else hosts.push(listenHost);
    for (const host of hosts) {
      for (const address of await this.#addressesOf(host)) {
        const family = isIP(address);
        if (family !== 0) list.addAddress(address, family === 6 ? "ipv6" : "ipv4");
      }
    }
    return list;
  }

  async #addressesOf(host: string): Promise<string[]> {
    if (isIP(host) !== 0) return [host];
    const now = this.#o.clock.now().getTime();
    const known = this.#names.get(host);
    if (known && known.until > now) return known.addresses;
    let addresses: string[] = [];
    try {
      const found = await (this.#o.resolve ?? ((h) => lookup(h, { all: true, verbatim: true })))(host);
      addresses = found.map((f) => f.address);
    } catch {
      // A name that does not resolve now is reached by no delivery now either.
    }
    this.#names.set(host, { addresses, until: now + this.#o.namesTtlMs });
    return addresses;
  }
}
