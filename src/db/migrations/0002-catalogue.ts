import { type Kysely, sql } from "kysely";
import { dialectName } from "../dialect-name.ts";

// The catalogue a fresh database starts with. It includes every plan, operating system and location
// that the original documentation's samples use, with the same ids (plans 1 and 2, OS 3 and 5,
// us-west and us-east). Addresses come from the documentation ranges of RFC 5737 and RFC 3849.

const LOCATIONS = [
  { id: 1, code: "us-west", name: "US West (San Jose)", country: "US", v4: "203.0.113", v6: "2001:db8:1" },
  { id: 2, code: "us-east", name: "US East (New York)", country: "US", v4: "198.51.100", v6: "2001:db8:2" },
  {
    id: 3,
    code: "eu-central",
    name: "EU Central (Frankfurt)",
    country: "DE",
    v4: "192.0.2",
    v6: "2001:db8:3",
  },
];

const PLANS = [
  {
    id: 1,
    name: "Standard VPS",
    vcpus: 2,
    memory_mb: 4096,
    storage_gb: 80,
    bandwidth_gb: 2048,
    hourly: 3,
    monthly: 2000,
  },
  {
    id: 2,
    name: "Performance VPS",
    vcpus: 4,
    memory_mb: 8192,
    storage_gb: 160,
    bandwidth_gb: 4096,
    hourly: 6,
    monthly: 4000,
  },
  {
    id: 3,
    name: "Starter VPS",
    vcpus: 1,
    memory_mb: 1024,
    storage_gb: 25,
    bandwidth_gb: 1024,
    hourly: 1,
    monthly: 500,
  },
  {
    id: 4,
    name: "Memory VPS",
    vcpus: 4,
    memory_mb: 16384,
    storage_gb: 200,
    bandwidth_gb: 5120,
    hourly: 12,
    monthly: 8000,
  },
];

/** Memory VPS is not offered in us-west, so "plan not offered in this location" has a real example. */
const OFFERS: Record<number, number[]> = { 1: [1, 2, 3], 2: [1, 2, 3], 3: [1, 2, 3], 4: [2, 3] };

const OPERATING_SYSTEMS = [
  { id: 1, name: "Ubuntu 20.04 LTS", distribution: "ubuntu", version: "20.04", image: "ubuntu-20.04.qcow2" },
  { id: 2, name: "Debian 11", distribution: "debian", version: "11", image: "debian-11.qcow2" },
  { id: 3, name: "Debian 12", distribution: "debian", version: "12", image: "debian-12.qcow2" },
  { id: 4, name: "Rocky Linux 9", distribution: "rocky", version: "9", image: "rocky-9.qcow2" },
  { id: 5, name: "Ubuntu 22.04 LTS", distribution: "ubuntu", version: "22.04", image: "ubuntu-22.04.qcow2" },
  { id: 6, name: "Ubuntu 24.04 LTS", distribution: "ubuntu", version: "24.04", image: "ubuntu-24.04.qcow2" },
];

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as it is
export async function up(db: Kysely<any>): Promise<void> {
  await db
    .insertInto("locations")
    .values(LOCATIONS.map(({ id, code, name, country }) => ({ id, code, name, country })))
    .execute();
  await db
    .insertInto("plans")
    .values(
      PLANS.map(({ hourly, monthly, ...plan }) => ({
        ...plan,
        price_hourly_minor: hourly,
        price_monthly_minor: monthly,
      })),
    )
    .execute();
  await db
    .insertInto("plan_locations")
    .values(
      Object.entries(OFFERS).flatMap(([planId, locationIds]) =>
        locationIds.map((locationId) => ({ plan_id: Number(planId), location_id: locationId })),
      ),
    )
    .execute();
  await db.insertInto("operating_systems").values(OPERATING_SYSTEMS).execute();
  for (const location of LOCATIONS) {
    const hosts = Array.from({ length: 241 }, (_, i) => i + 10);
    await db
      .insertInto("ip_addresses")
      .values([
        ...hosts.map((h) => ({ location_id: location.id, family: 4, address: `${location.v4}.${h}` })),
        ...hosts.map((h) => ({
          location_id: location.id,
          family: 6,
          address: `${location.v6}::${h.toString(16)}`,
        })),
      ])
      .execute();
  }
  if (dialectName(db) === "postgres") {
    // Explicit ids do not move PostgreSQL sequences; catalogue rows added later must not collide with these.
    for (const table of ["locations", "plans", "operating_systems"]) {
      await sql`select setval(pg_get_serial_sequence(${table}, 'id'), (select max(id) from ${sql.table(table)}))`.execute(
        db,
      );
    }
  }
}
