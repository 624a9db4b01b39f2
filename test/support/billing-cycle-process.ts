// One process that runs the billing cycle once on DATABASE_URL at the fixed time VPS_TEST_NOW, for tests that
// kill it mid-cycle: it writes "running" when its cycle starts and the cycle's result as JSON when it ends.
import { openDatabase } from "../../src/db/database.ts";
import { billingCycleOn } from "./billing-cycle-on.ts";

const url = process.env.DATABASE_URL;
const now = process.env.VPS_TEST_NOW;
if (!url || !now) throw new Error("DATABASE_URL and VPS_TEST_NOW are needed");
const database = await openDatabase(url, 2);
const cycle = billingCycleOn(
  database.db,
  { now: () => new Date(now) },
  {
    backupPricePercent: Number(process.env.VPS_BACKUP_PRICE_PERCENT ?? "0"),
    snapshotPriceMinorPerGbMonth: Number(process.env.VPS_TEST_SNAPSHOT_MINOR ?? "0"),
  },
);
process.stdout.write("running\n");
const result = await cycle.runOnce();
process.stdout.write(`${JSON.stringify(result)}\n`);
await database.close();
