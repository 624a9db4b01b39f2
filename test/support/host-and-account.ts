import type { Repositories } from "../../src/db/repositories/repositories.ts";

/** An enabled embedded host in location 1 and an account without credit, straight in the database. */
export async function hostAndAccount(
  repos: Repositories,
  hostName: string,
  email: string,
): Promise<{ hostId: number; accountId: number }> {
  const now = new Date().toISOString();
  const hostId = (await repos.hosts.createEmbedded(hostName, 1, now))?.id ?? 0;
  const { id: accountId } = await repos.db
    .insertInto("accounts")
    .values({ email, balance_minor: 0, currency: "USD", created_at: now, updated_at: now })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { hostId, accountId };
}
