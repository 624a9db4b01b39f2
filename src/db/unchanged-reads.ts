import { CompiledQuery } from "kysely";
import type { Db } from "./database.ts";
import { dialectName } from "./dialect-name.ts";

/** Commits by other connections since this one opened, and the rows this one changed (rolled back or not). */
const VERSION = CompiledQuery.raw(
  "select data_version as commits, total_changes() as changes from pragma_data_version",
);
type Version = { commits: number; changes: number };

/**
 * Results of reads, kept while the SQLite database has not changed at all since they were read: before each
 * read, one statement of about 3 µs asks whether any connection has committed anything since (`data_version`
 * counts other connections' commits, `total_changes()` this one's changed rows). A kept result is never older
 * than the database, so it is exact, for every account and every process. The version is taken before the read:
 * a write that commits between them makes the kept result unusable, never stale. Any write at all (another
 * account's, a rate-limit count, a usage sample) forgets everything, so this pays where reads repeat between
 * writes. Outside transactions only; on PostgreSQL, which has no such counter, every read runs. Results are
 * shared by the reads that find them: read-only.
 */
export class UnchangedReads<T> {
  readonly #db: Db;
  readonly #limit: number;
  readonly #kept = new Map<string, { version: string; value: T }>();
  constructor(db: Db, limit = 128) {
    this.#db = db;
    this.#limit = limit;
  }

  /** `read()`'s result, or the one it gave for `key` if nothing has been written since. */
  async read(key: string, read: () => Promise<T>): Promise<T> {
    if (this.#db.isTransaction || dialectName(this.#db) !== "sqlite") return read();
    const { rows } = await this.#db.executeQuery<Version>(VERSION);
    const version = `${rows[0]?.commits}:${rows[0]?.changes}`;
    const kept = this.#kept.get(key);
    if (kept?.version === version) return kept.value;
    const value = await read();
    this.#kept.delete(key);
    if (this.#kept.size >= this.#limit) {
      const oldest = this.#kept.keys().next().value;
      if (oldest !== undefined) this.#kept.delete(oldest);
    }
    this.#kept.set(key, { version, value });
    return value;
  }
}
