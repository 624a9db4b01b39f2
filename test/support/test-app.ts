import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { boot, type ControlPlane } from "../../src/boot.ts";
import { loadConfig } from "../../src/config.ts";
import type { OpenDatabase } from "../../src/db/database.ts";
import { type Clock, systemClock } from "../../src/domain/clock.ts";
import type { SimDriver } from "../../src/drivers/sim/sim-driver.ts";
import { bootstrap } from "../../src/services/bootstrap.ts";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import type { ImageStore } from "../../src/store/image-store.ts";
import { type Client, client } from "./client.ts";
import { dropDatabase, freshDatabaseUrl } from "./test-database.ts";

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
export const OWNER_TOKEN = "owner-token-for-tests-0123456789";

export interface TestApp {
  url: string;
  app: ControlPlane;
  database: OpenDatabase;
  driver: SimDriver;
  dir: string;
  /** The bootstrap account's client (100.00 of credit). */
  owner: Client;
  admin: Client;
  anonymous: Client;
  /** A new account with its own token, through the admin API. */
  newAccount(credit?: string): Promise<Client & { accountId: number }>;
  close(): Promise<void>;
}

/**
 * The real service, in this process, on a loopback port and a fresh SQLite file; `clock` lets a test move time.
 * Images are kept in a directory store in the test's folder, or in the store `imageStore` makes of that folder.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  clock: Clock = systemClock,
  imageStore: (dir: string) => ImageStore = (dir) => new DirectoryImageStore(dir),
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), "vps-test-"));
  const databaseUrl = await freshDatabaseUrl(dir);
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PORT: "0",
    VPS_SIM_DELAY_MS: "20",
    VPS_ADMIN_TOKEN: ADMIN_TOKEN,
    VPS_BOOTSTRAP_TOKEN: OWNER_TOKEN,
    VPS_POWER_SYNC_MS: "60000",
    VPS_RETRY_BASE_MS: "20",
    VPS_POLL_MS: "200",
    // Tests that are not about rate limits send bursts no client would; their own test sets small budgets.
    VPS_RATE_LIMIT_READS: "100000",
    VPS_RATE_LIMIT_WRITES: "100000",
    VPS_AUTH_FAILURE_LIMIT: "100000",
    // The sample create has backups on: tests that are not about their surcharge count plan prices only.
    VPS_BACKUP_PRICE_PERCENT: "0",
    // Nor traffic: the sim's machines send at a steady rate, and a sample taken mid-test would charge it.
    VPS_BANDWIDTH_PRICE_GB: "0",
    ...env,
  });
  const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
  const app = await boot({ config, log, clock, imageStore: imageStore(join(dir, "image-store")) });
  const { database } = app;
  const driver = app.driver as SimDriver;
  await bootstrap(config, app.services, log);
  await app.engine.start();
  await app.http.listen({ port: 0, host: "127.0.0.1" });
  const address = app.http.server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  const url = `http://127.0.0.1:${address.port}`;
  const admin = client(url, ADMIN_TOKEN);
  return {
    url,
    app,
    database,
    driver,
    dir,
    owner: client(url, OWNER_TOKEN),
    admin,
    anonymous: client(url, undefined),
    async newAccount(credit = "50.00") {
      const email = `user-${Math.random().toString(36).slice(2)}@example.com`;
      const res = await admin.post("/api/v1/admin/accounts/", { email, credit });
      if (res.status !== 201)
        throw new Error(`account create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return Object.assign(client(url, res.body.api_token), { accountId: res.body.id as number });
    },
    async close() {
      await app.close();
      await dropDatabase(databaseUrl);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
