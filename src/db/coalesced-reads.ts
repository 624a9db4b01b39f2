interface Waiting<K, R> {
  key: K;
  resolve: Array<(row: R | undefined) => void>;
  reject: Array<(err: unknown) => void>;
}

/**
 * Reads by key that start in the same turn of the event loop, answered by one statement for all of them: on
 * PostgreSQL every statement is a round trip and a backend's wake-up, and concurrent requests arrive together.
 * The statement is sent once the turn's I/O callbacks have run (`setImmediate`), so it starts after every read it
 * answers and sees every commit that preceded them; nothing is kept after it answers. Each read gets the row of its
 * own key, or undefined.
 */
export class CoalescedReads<K, R> {
  readonly #readMany: (keys: K[]) => Promise<R[]>;
  readonly #keyOf: (key: K) => string;
  readonly #keyOfRow: (row: R) => string;
  readonly #max: number;
  #batch: Map<string, Waiting<K, R>> | undefined;

  /** `readMany` reads the rows of several keys at once; `max` bounds the keys of one statement. */
  constructor(
    readMany: (keys: K[]) => Promise<R[]>,
    keyOf: (key: K) => string,
    keyOfRow: (row: R) => string,
    max = 100,
  ) {
    this.#readMany = readMany;
    this.#keyOf = keyOf;
    this.#keyOfRow = keyOfRow;
    this.#max = max;
  }

  read(key: K): Promise<R | undefined> {
    let batch = this.#batch;
    if (!batch) {
      const started = new Map<string, Waiting<K, R>>();
      this.#batch = batch = started;
      setImmediate(() => this.#flush(started));
    }
    const id = this.#keyOf(key);
    let waiting = batch.get(id);
    if (!waiting) {
      waiting = { key, resolve: [], reject: [] };
      batch.set(id, waiting);
      // A full batch takes no more: the next read starts another.
      if (batch.size >= this.#max) this.#batch = undefined;
    }
    const entry = waiting;
    return new Promise((resolve, reject) => {
      entry.resolve.push(resolve);
      entry.reject.push(reject);
    });
  }

  async #flush(batch: Map<string, Waiting<K, R>>): Promise<void> {
    if (this.#batch === batch) this.#batch = undefined;
    let rows: R[];
    try {
      rows = await this.#readMany([...batch.values()].map((waiting) => waiting.key));
    } catch (err) {
      for (const waiting of batch.values()) for (const reject of waiting.reject) reject(err);
      return;
    }
    const byKey = new Map<string, R>();
    for (const row of rows) byKey.set(this.#keyOfRow(row), row);
    for (const [id, waiting] of batch) {
      const row = byKey.get(id);
      for (const resolve of waiting.resolve) resolve(row);
    }
  }
}
