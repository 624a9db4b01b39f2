// Statements per request and per operation on PostgreSQL: npm run bench:statements. Boots the control plane in
// this process on a fresh database (BENCH_POSTGRES_URL) and counts what pg's clients send (BEGIN and COMMIT
// included, the LISTEN connection too) during a create, the worker's run of it, a stop request and the stop's
// run; each statement's text is printed with BENCH_STATEMENTS=show. The engine's background loops run as they
// do in the service, so a count includes what a request wakes (the worker's claim, the webhook dispatcher).
import pg from "pg";
import { boot } from "../src/boot.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/logger.ts";
import { AUTH, BENCH_ADMIN_TOKEN, freshDatabase, POSTGRES, seed } from "./harness.ts";

if (!POSTGRES) throw new Error("set BENCH_POSTGRES_URL");
const show = process.env.BENCH_STATEMENTS === "show";
const texts: string[] = [];
let counting = false;
const query = pg.Client.prototype.query;
// Every statement of every client, pooled or not, goes through Client.query.
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (counting) {
    const first = args[0] as string | { text?: string };
    texts.push(
      String(typeof first === "string" ? first : first.text)
        .replace(/\s+/g, " ")
        .slice(0, 120),
    );
  }
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

async function counted(label: string, work: () => Promise<unknown>, settleMs = 0): Promise<void> {
  texts.length = 0;
  counting = true;
  await work();
  await new Promise((r) => setTimeout(r, settleMs));
  counting = false;
  console.log(`${label.padEnd(36)} ${texts.length} statements`);
  if (show) for (const text of texts) console.log(`    ${text}`);
}

const databaseUrl = await freshDatabase("postgres", "vps_bench_statements");
await seed(databaseUrl, 100);
const config = loadConfig({
  ...process.env,
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: "warn",
  VPS_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
  VPS_SIM_DELAY_MS: "0",
  VPS_RATE_LIMIT_READS: "0",
  VPS_RATE_LIMIT_WRITES: "0",
  VPS_POWER_SYNC_MS: "600000",
  VPS_BILLING_INTERVAL_MS: "600000",
});
const plane = await boot({ config, log: createLogger(config) });
try {
  await plane.engine.start();
  const create = () =>
    plane.http.inject({
      method: "POST",
      url: "/api/v1/servers/",
      headers: AUTH,
      payload: { name: "counted", plan_id: 3, os_id: 3, location: "us-east" },
    });
  // The first creates read what a process keeps once (the catalogue, prepared statements).
  for (let i = 0; i < 3; i++) await create();
  await new Promise((r) => setTimeout(r, 1000));
  let id = 0;
  // The request alone: the worker's run starts once it answered.
  await counted("POST /servers/ (request)", async () => {
    id = JSON.parse((await create()).body).id;
  });
  await counted("its create operation (worker)", async () => {}, 1000);
  await counted("POST /servers/{id}/stop/ (request)", () =>
    plane.http.inject({ method: "POST", url: `/api/v1/servers/${id}/stop/`, headers: AUTH }),
  );
  await counted("its stop operation (worker)", async () => {}, 1000);
} finally {
  await plane.close();
}
