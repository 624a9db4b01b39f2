// The fleet benchmark's seed: hosts registered and joined through the real admin and agent APIs, then the
// seeded servers placed on them straight in the database (100,000 placements through the API would take longer
// than the benchmark itself), holding their plans as a create's claim would.
import type { Db } from "../src/db/database.ts";

export const ADMIN = {
  authorization: "Bearer bench-admin-token-0123456789abcdef",
  "content-type": "application/json",
};

/** The locations the fleet's hosts are spread over (seeded by the migrations), and the baseline's own. */
export const FLEET_LOCATIONS = ["us-west", "us-east", "eu-central"] as const;
export const SOLO_LOCATION = "bench-solo";

/**
 * What each fleet host reports: room for about 1,000 servers of the bench's plan (2 vCPUs at the default ratio
 * of 4, 4 GiB, 80 GB), so that the creates under load never run out of room even with few hosts.
 */
export const FLEET_CAPACITY = { vcpus: 512, memory_mb: 4_194_304, disk_gb: 81_920 };
/** The baseline's one host: placement there is a choice of one. */
export const SOLO_CAPACITY = { vcpus: 100_000, memory_mb: 1_000_000_000, disk_gb: 1_000_000_000 };

export interface JoinedHost {
  id: number;
  name: string;
  location: string;
  credential: string;
}

async function call(url: string, method: string, body: unknown, headers = ADMIN): Promise<unknown> {
  const res = await fetch(url, { method, headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * The baseline's location, a plan offered there and in the fleet's locations (so both arms create the same
 * plan), and a /16 of addresses in each location the creates use, so no create under load runs out of them.
 * The plan's id.
 */
export async function prepareCatalogue(url: string, createLocations: string[]): Promise<number> {
  await call(`${url}/api/v1/admin/locations/`, "POST", {
    code: SOLO_LOCATION,
    name: "Bench (one host)",
    country: "US",
  });
  const plan = (await call(`${url}/api/v1/admin/plans/`, "POST", {
    name: "Bench Standard",
    vcpus: 2,
    memory: 4096,
    storage: 80,
    bandwidth: 2048,
    price_hourly: "0.03",
    price_monthly: "20.00",
    locations: [...FLEET_LOCATIONS, SOLO_LOCATION],
  })) as { id: number };
  for (const [i, code] of [...createLocations, SOLO_LOCATION].entries()) {
    await call(`${url}/api/v1/admin/locations/${code}/addresses/`, "POST", { cidr: `10.${100 + i}.0.0/16` });
  }
  return plan.id;
}

/** Registers the host (admin API) and joins it with its token (agent API), as an agent's first start does. */
export async function registerAndJoin(
  url: string,
  name: string,
  location: string,
  capacity: typeof FLEET_CAPACITY,
): Promise<JoinedHost> {
  const registered = (await call(`${url}/api/v1/admin/hosts/`, "POST", { name, location })) as {
    host: { id: number };
    join_token: string;
  };
  const joined = (await call(
    `${url}/api/v1/agent/join`,
    "POST",
    { join_token: registered.join_token, agent_version: "bench", driver: "sim", capacity, images: null },
    { authorization: "", "content-type": "application/json" },
  )) as { host_id: number; credential: string };
  return { id: joined.host_id, name, location, credential: joined.credential };
}

/** `count` fleet hosts spread over the fleet's locations, `parallel` registrations at a time. */
export async function joinFleet(url: string, count: number, parallel = 16): Promise<JoinedHost[]> {
  const hosts: JoinedHost[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < count; i = next++) {
        const location = FLEET_LOCATIONS[i % FLEET_LOCATIONS.length] as string;
        hosts[i] = await registerAndJoin(url, `hv${i + 1}.${location}.bench`, location, FLEET_CAPACITY);
      }
    }),
  );
  return hosts;
}

export interface PlacedServer {
  id: number;
  status: "active" | "stopped";
}

/**
 * Places every seeded server on a host of its location, round robin, each holding its plan's sizes: the
 * server's host, its allocation, and the host's allocated amounts and count, in one transaction. The servers
 * of each host, by host id.
 */
export async function placeServers(db: Db, hosts: JoinedHost[]): Promise<Map<number, PlacedServer[]>> {
  const byHost = new Map<number, PlacedServer[]>(hosts.map((h) => [h.id, []]));
  const locations = await db.selectFrom("locations").select(["id", "code"]).execute();
  const servers = await db
    .selectFrom("servers")
    .innerJoin("plans", "plans.id", "servers.plan_id")
    .select([
      "servers.id",
      "servers.status",
      "servers.location_id",
      "plans.vcpus",
      "plans.memory_mb",
      "plans.storage_gb",
    ])
    .where("servers.host_id", "is", null)
    .orderBy("servers.id")
    .execute();
  const now = new Date().toISOString();
  await db.transaction().execute(async (tx) => {
    const allocations = [];
    const totals = new Map<number, { vcpus: number; memory_mb: number; disk_gb: number; n: number }>();
    const turn = new Map<number, number>();
    const hostsOf = new Map(locations.map((l) => [l.id, hosts.filter((h) => h.location === l.code)]));
    for (const server of servers) {
      const local = hostsOf.get(server.location_id) ?? [];
      if (local.length === 0) continue;
      const k = turn.get(server.location_id) ?? 0;
      turn.set(server.location_id, k + 1);
      const host = local[k % local.length] as JoinedHost;
      byHost.get(host.id)?.push({ id: server.id, status: server.status as PlacedServer["status"] });
      allocations.push({
        server_id: server.id,
        host_id: host.id,
        vcpus: server.vcpus,
        memory_mb: server.memory_mb,
        disk_gb: server.storage_gb,
        created_at: now,
      });
      const t = totals.get(host.id) ?? { vcpus: 0, memory_mb: 0, disk_gb: 0, n: 0 };
      t.vcpus += server.vcpus;
      t.memory_mb += server.memory_mb;
      t.disk_gb += server.storage_gb;
      t.n++;
      totals.set(host.id, t);
    }
    for (let i = 0; i < allocations.length; i += 500) {
      await tx
        .insertInto("host_allocations")
        .values(allocations.slice(i, i + 500))
        .execute();
    }
    for (const [hostId, placed] of byHost) {
      if (placed.length === 0) continue;
      const ids = placed.map((s) => s.id);
      for (let i = 0; i < ids.length; i += 500) {
        await tx
          .updateTable("servers")
          .set({ host_id: hostId })
          .where("id", "in", ids.slice(i, i + 500))
          .execute();
      }
      const t = totals.get(hostId);
      if (!t) continue;
      await tx
        .updateTable("hosts")
        .set((eb) => ({
          vcpus_allocated: eb("vcpus_allocated", "+", t.vcpus),
          memory_mb_allocated: eb("memory_mb_allocated", "+", t.memory_mb),
          disk_gb_allocated: eb("disk_gb_allocated", "+", t.disk_gb),
          server_count: eb("server_count", "+", t.n),
        }))
        .where("id", "=", hostId)
        .execute();
    }
  });
  return byHost;
}
