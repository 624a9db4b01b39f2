import { Repositories } from "../../src/db/repositories/repositories.ts";

/** The real repositories of one process (its own pool), keeping the errors its transactions failed with. */
export class WatchedRepositories extends Repositories {
  readonly failures: unknown[] = [];
  override async transaction<T>(work: (repos: Repositories) => Promise<T>): Promise<T> {
    try {
      return await super.transaction(work);
    } catch (err) {
      this.failures.push(err);
      throw err;
    }
  }
}
