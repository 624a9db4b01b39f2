import type { PlanWithLocations } from "../db/repositories/catalogue-repository.ts";
import type { Repositories } from "../db/repositories/repositories.ts";
import type { LocationRow, OsRow } from "../db/schema.ts";
import { AmountOutOfRange, Conflict, InvalidInput, NotFound } from "../domain/errors.ts";
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

  /** Adds the host addresses of a CIDR block to a location's pool; addresses already known are skipped. */
  async addAddresses(code: string, cidr: string): Promise<{ family: 4 | 6; added: number }> {
    const location = await this.#repos.catalogue.findLocationByCode(code);
    if (!location) throw new NotFound("Location");
    const block = expandCidr(cidr, MAX_BLOCK);
    if ("error" in block) throw InvalidInput.field("cidr", block.error);
    const added = await this.#repos.transaction((tx) =>
      tx.catalogue.addAddresses(location.id, block.family, block.addresses),
    );
    return { family: block.family, added };
  }
}
