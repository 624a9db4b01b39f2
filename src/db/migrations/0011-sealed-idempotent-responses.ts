import type { Kysely } from "kysely";
import { idempotencyKeyDigest, responseSealKey, sealResponse } from "../../domain/sealed-response.ts";

// Idempotency keys are kept as digests and their responses sealed with a key derived from the Idempotency-Key
// (a response can carry a new account's API token). Rows stored before are converted while their keys are
// still known; rows more than a day old, and refusals (no longer kept), are dropped.

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  const dayAgo = new Date(Date.now() - 24 * 3_600_000).toISOString();
  await db
    .deleteFrom("idempotency_keys")
    .where((eb) =>
      eb.or([eb("created_at", "<", dayAgo), eb("status_code", "<", 200), eb("status_code", ">=", 300)]),
    )
    .execute();
  const rows = await db
    .selectFrom("idempotency_keys")
    .select(["account_id", "key", "request_hash", "response_body"])
    .execute();
  for (const row of rows) {
    const body =
      row.response_body === null
        ? null
        : sealResponse(row.response_body, responseSealKey(row.key, row.account_id, row.request_hash));
    await db
      .updateTable("idempotency_keys")
      .set({ key: idempotencyKeyDigest(row.key), response_body: body })
      .where("account_id", "=", row.account_id)
      .where("key", "=", row.key)
      .execute();
  }
}
