import type { PlanWithLocations, PoolUsage } from "../db/repositories/catalogue-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { LocationRow, OsRow } from "../db/schema.ts";
import {
  AddressRangeOverlaps,
  AmountOutOfRange,
  Conflict,
  InvalidInput,
  NotFound,
} from "../domain/errors.ts";
import { expandCidr } from "../domain/ip-range.ts";
import { parseMoney, withinMoneyLimit } from "../domain/money.ts";

export interface NewPlan {
  name: string;
  vcpus: number;
  memory: number;
  storage: number;
  bandwidth: number;
  price_hourly: string;
  price_monthly: string;
  locations: string[];
}

/** Most addresses one request may add to a pool; larger blocks are added in several requests. */
const MAX_BLOCK = 65_536;

export class CatalogueService {
  readonly #repos: Repositories;
  constructor(repos: Repositories) {
    this.#repos = repos;
  }

  listPlans(): Promise<PlanWithLocations[]> {
    return this.#repos.catalogue.listPlans();
  }

  listOs(): Promise<OsRow[]> {
    return this.#repos.catalogue.listOs();
  }

  listLocations() {
    return this.#repos.catalogue.listLocations();
  }

  /** How many addresses each location's pools hold, by family, and how many servers hold. */
  poolUsage(): Promise<PoolUsage[]> {
    return this.#repos.catalogue.poolUsage();
  }

  async createPlan(input: NewPlan): Promise<PlanWithLocations> {
    const hourly = parseMoney(input.price_hourly);
    const monthly = parseMoney(input.price_monthly);
    const errors: Record<string, string[]> = {};
    if (hourly === null) errors.price_hourly = ['Must be an amount such as "0.03".'];
    if (monthly === null) errors.price_monthly = ['Must be an amount such as "20.00".'];
    const locations = await this.#repos.catalogue.findLocationsByCodes(input.locations);
    const unknown = input.locations.filter((code) => !locations.some((l) => l.code === code));
    if (unknown.length > 0) errors.locations = [`Unknown locations: ${unknown.join(", ")}.`];
    if (Object.keys(errors).length > 0 || hourly === null || monthly === null) throw new InvalidInput(errors);
    const outOfRange = [
      ...(withinMoneyLimit(hourly) ? [] : ["price_hourly"]),
      ...(withinMoneyLimit(monthly) ? [] : ["price_monthly"]),
    ];
    if (outOfRange.length > 0) throw new AmountOutOfRange(outOfRange, "Prices");
    const plan = await this.#repos.transaction((tx) =>
      tx.catalogue.createPlan(
        {
          name: input.name,
          vcpus: input.vcpus,
          memory_mb: input.memory,
          storage_gb: input.storage,
          bandwidth_gb: input.bandwidth,
          price_hourly_minor: hourly,
          price_monthly_minor: monthly,
        },
        locations.map((l) => l.id),
      ),
    );
    return { ...plan, locations: locations.map((l) => l.code) };
  }

  createOs(input: { name: string; distribution: string; version: string; image: string }): Promise<OsRow> {
    return this.#repos.catalogue.createOs(input);
  }

  async createLocation(input: { code: string; name: string; country: string }): Promise<LocationRow> {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(input.code) || input.code.length > 32) {
      throw InvalidInput.field(
        "code",
        "Use 1-32 lowercase letters, digits and single hyphens, such as eu-west.",
      );
    }
    if (await this.#repos.catalogue.findLocationByCode(input.code)) {
      throw new Conflict("location_exists", `Location "${input.code}" already exists.`);
    }
    return this.#repos.catalogue.createLocation(input.code, input.name, input.country);
  }

  /**
   * Adds the host addresses of a CIDR block to a location's pool, all of them or none: a block that shares
   * any address with a pool (this location's or another's) is refused with the overlap named, since adding
   * only the rest would leave the operator believing the whole block was new.
   */
  async addAddresses(code: string, cidr: string): Promise<{ family: 4 | 6; added: number }> {
    const location = await this.#repos.catalogue.findLocationByCode(code);
    if (!location) throw new NotFound("Location");
    const block = expandCidr(cidr, MAX_BLOCK);
    if ("error" in block) throw InvalidInput.field("cidr", block.error);
    const added = await this.#repos.transaction(async (tx) => {
      const overlap = await tx.catalogue.pooledAmong(block.addresses);
      if (overlap.length > 0) throw new AddressRangeOverlaps(describeOverlap(cidr, block.addresses, overlap));
      const added = await tx.catalogue.addAddresses(location.id, block.family, block.addresses);
      await tx.catalogue.addBlock(location.id, block.family, block.cidr);
      // Another request added some of them since the check: refuse the whole block (this rolls back).
      if (added < block.addresses.length) {
        throw new AddressRangeOverlaps(`${cidr} overlaps addresses added to a pool at the same time.`);
      }
      return added;
    });
    return { family: block.family, added };
  }
}

/** "203.0.113.0/26 overlaps the pool of us-west: 9 of its 62 addresses (203.0.113.1 to 203.0.113.9)." */
function describeOverlap(
  cidr: string,
  block: string[],
  overlap: { address: string; location: string }[],
): string {
  const order = new Map(block.map((address, i) => [address, i]));
  const byLocation = new Map<string, string[]>();
  for (const { address, location } of overlap)
    byLocation.set(location, [...(byLocation.get(location) ?? []), address]);
  const parts = [...byLocation].map(([location, addresses]) => {
    const sorted = addresses.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
    const range = sorted.length === 1 ? sorted[0] : `${sorted[0]} to ${sorted[sorted.length - 1]}`;
    return `the pool of ${location}: ${sorted.length} of its ${block.length} addresses (${range})`;
  });
  return `${cidr} overlaps ${parts.join("; and ")}. Add a block that no pool holds yet.`;
}
