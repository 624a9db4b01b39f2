import type { Insertable } from "kysely";
import type { ServersTable } from "../../src/db/schema.ts";

type ServerValues = Insertable<ServersTable>;

/**
 * The values of a server row for `repos.servers.insert`: what a test names, over a plain server of plan 1 and OS 3
 * in location 1, with no SSH key, no backups and not deleted.
 */
export function serverValues(
  given: Pick<ServerValues, "account_id" | "name" | "status" | "host_id" | "created_at"> &
    Partial<ServerValues>,
): ServerValues {
  return {
    hostname: null,
    plan_id: 1,
    os_id: 3,
    location_id: 1,
    ssh_key_id: null,
    ssh_public_key: null,
    backups_enabled: 0,
    updated_at: given.created_at,
    deleted_at: null,
    billed_until: null,
    ...given,
  };
}
