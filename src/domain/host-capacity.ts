// A host's capacity per resource, as OpenStack Placement counts it: a claim fits when
// `(total − reserved) × allocation_ratio ≥ allocated + requested`. Ratios are kept in thousandths so that the
// comparison is exact integer arithmetic here and in the repository's SQL alike (4.0 is 4000).

export const RESOURCES = ["vcpus", "memory_mb", "disk_gb"] as const;
export type Resource = (typeof RESOURCES)[number];
export type Amounts = Record<Resource, number>;

/** Overcommit defaults: CPU time is shared, memory and disk are not. */
export const DEFAULT_RATIOS_MILLI: Amounts = { vcpus: 4000, memory_mb: 1000, disk_gb: 1000 };

/** Bounds of what a host may report or an operator reserve; products with a ratio stay below 2^53. */
export const MAX_AMOUNT: Amounts = { vcpus: 100_000, memory_mb: 1_000_000_000, disk_gb: 1_000_000_000 };
export const MIN_RATIO_MILLI = 1;
export const MAX_RATIO_MILLI = 1_000_000;

export interface Inventory {
  total: Amounts;
  reserved: Amounts;
  ratioMilli: Amounts;
  allocated: Amounts;
}

/** What is left of one resource, in thousandths of a unit (exact; negative when over-committed). */
export function freeMilli(inventory: Inventory, resource: Resource): number {
  const usable = (inventory.total[resource] - inventory.reserved[resource]) * inventory.ratioMilli[resource];
  return usable - inventory.allocated[resource] * 1000;
}

/** Whole units free of each resource, as shown to the operator. */
export function freeAmounts(inventory: Inventory): Amounts {
  const free = (r: Resource) => Math.max(0, Math.floor(freeMilli(inventory, r) / 1000));
  return { vcpus: free("vcpus"), memory_mb: free("memory_mb"), disk_gb: free("disk_gb") };
}

/** The fit rule: every resource has room for the request. */
export function fits(inventory: Inventory, requested: Amounts): boolean {
  return RESOURCES.every((r) => freeMilli(inventory, r) >= requested[r] * 1000);
}

/** A ratio as given (e.g. 1.5) in exact thousandths, or null when it has more than three decimals or is out of bounds. */
export function ratioToMilli(ratio: number): number | null {
  const milli = Math.round(ratio * 1000);
  if (!Number.isFinite(ratio) || Math.abs(ratio * 1000 - milli) > 1e-6) return null;
  return milli >= MIN_RATIO_MILLI && milli <= MAX_RATIO_MILLI ? milli : null;
}

export function milliToRatio(milli: number): number {
  return milli / 1000;
}

/** Messages per field for amounts (reported capacity or reserved) that are not whole numbers within bounds. */
export function amountProblems(field: string, amounts: Partial<Amounts>): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  for (const r of RESOURCES) {
    const value = amounts[r];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0 || value > MAX_AMOUNT[r]) {
      problems[`${field}.${r}`] = [`Must be a whole number from 0 to ${MAX_AMOUNT[r]}.`];
    }
  }
  return problems;
}

/** Ratios in thousandths, or messages per field for those that are not 0.001–1000 with at most three decimals. */
export function parseRatios(
  field: string,
  ratios: Partial<Amounts>,
): { milli: Partial<Amounts>; problems: Record<string, string[]> } {
  const milli: Partial<Amounts> = {};
  const problems: Record<string, string[]> = {};
  for (const r of RESOURCES) {
    const value = ratios[r];
    if (value === undefined) continue;
    const parsed = ratioToMilli(value);
    if (parsed === null)
      problems[`${field}.${r}`] = ["Must be from 0.001 to 1000, with at most three decimals."];
    else milli[r] = parsed;
  }
  return { milli, problems };
}
