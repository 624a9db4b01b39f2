// What one placement claim costs as a location's hosts grow: npm run bench:placement. In-process, with no
// service: `HOSTS` (333) enabled, fresh hosts in one location and one host alone in another, then `CLAIMS` (300)
// claims of a plan in each, one after the other, each in its own transaction, timed. PostgreSQL with
// BENCH_POSTGRES_URL, else SQLite.
import { rmSync } from "node:fs";
import { openDatabase } from "../src/db/database.ts";
import { Repositories } from "../src/db/repositories/repositories.ts";
import type { Amounts } from "../src/domain/host-capacity.ts";
import { freshSince } from "../src/domain/host-placement.ts";
import { freshDatabase, POSTGRES, work } from "./harness.ts";

const HOSTS = Number(process.env.BENCH_PLACEMENT_HOSTS ?? 333);
const CLAIMS = Number(process.env.BENCH_PLACEMENT_CLAIMS ?? 300);
const ROUNDS = 3;
const PLAN: Amounts = { vcpus: 1, memory_mb: 1024, disk_gb: 25 };
const IMAGES = ["debian-12.qcow2", "ubuntu-24.04.qcow2"];
const [MANY, ONE] = [1, 2];

const backend = POSTGRES ? "postgres" : "sqlite";
const database = await openDatabase(await freshDatabase(backend, "vps_bench_placement"));
const repos = new Repositories(database.db);
const now = () => new Date().toISOString();

async function addHost(name: string, locationId: number, memoryMb: number): Promise<void> {
  const host = await repos.hosts.create(name, locationId, `digest-of-${name}`, now(), now());
  if (!host) throw new Error(`host ${name} exists`);
  const capacity = { vcpus: 100_000, memory_mb: memoryMb, disk_gb: 1_000_000_000 };
  await repos.hosts.recordReport(host.id, capacity, "1.0.0", "sim", now(), IMAGES);
}

// Unequal free memory, so that spread orders them by more than their ids.
for (let i = 0; i < HOSTS; i++) await addHost(`many-${i}`, MANY, 1_000_000 + i * 1024);
await addHost("one", ONE, 1_000_000_000);

let serverId = 0;
async function perClaimMs(locationId: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < CLAIMS; i++) {
    const since = freshSince(new Date(), 3_600_000);
    const placed = await repos.hostAllocations.claim(
      ++serverId,
      locationId,
      PLAN,
      "spread",
      since,
      now(),
      IMAGES[0],
    );
    if (!placed) throw new Error("no host had room");
  }
  return (performance.now() - started) / CLAIMS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const many: number[] = [];
const one: number[] = [];
await perClaimMs(MANY); // warm-up
await perClaimMs(ONE);
for (let round = 0; round < ROUNDS; round++) {
  many.push(await perClaimMs(MANY));
  one.push(await perClaimMs(ONE));
}
const ms = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
console.log(`${backend}: a claim among ${HOSTS} hosts ${median(many).toFixed(2)} ms (rounds ${ms(many)})`);
console.log(`${backend}: a claim on one host ${median(one).toFixed(2)} ms (rounds ${ms(one)})`);
await database.close();
rmSync(work, { recursive: true, force: true });
