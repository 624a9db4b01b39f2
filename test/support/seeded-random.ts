/** A test's seed: `VPS_TEST_SEED` when set (to replay or vary a run), else the test's fixed default. */
export function testSeed(fallback: number): number {
  const text = process.env.VPS_TEST_SEED;
  return text === undefined || text === "" ? fallback : Number.parseInt(text, 10) >>> 0;
}

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same run. */
export class SeededRandom {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("nothing to pick from");
    return item;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}
