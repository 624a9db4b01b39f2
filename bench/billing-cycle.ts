// What the billing cycle costs at BENCH_BILLING_SERVERS (100,000) servers, each due for an hour: npm run
// bench:billing. In-process, with no service: the servers are seeded straight into a fresh database, then the
// baseline (the floor of any per-server charge: the cycle's own reads of due servers, 500 at a time, and one
// compare-and-swap UPDATE of the paid-until time per server, each in its own transaction) moves every server on an
// hour, and one run of the real cycle charges the next. Statements are counted by a Kysely plugin (BEGIN and COMMIT
// are not statements it sees; transactions are counted apart). SQLite, and PostgreSQL with BENCH_POSTGRES_URL.
import { rmSync } from "node:fs";
import type { KyselyPlugin, RootOperationNode } from "kysely";
import { pino } from "pino";
import { openDatabase } from "../src/db/database.ts";
import { Repositories } from "../src/db/repositories/repositories.ts";
import { hourAfter } from "../src/domain/billing.ts";
import { BillingCycle } from "../src/engine/billing-cycle.ts";
import { freshDatabase, POSTGRES, work } from "./harness.ts";
import { seedServers } from "./seed.ts";

const SERVERS = Number(process.env.BENCH_BILLING_SERVERS ?? 100_000);
const HOUR_MS = 3_600_000;

/** Counts the statements run through the Kysely instance it is added to, and times them by kind and table. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  readonly ms = new Map<string, number>();
  readonly #started = new Map<unknown, { at: number; what: string }>();
  transformQuery: KyselyPlugin["transformQuery"] = (args) => {
    this.count++;
    this.#started.set(args.queryId, { at: performance.now(), what: statementOf(args.node) });
    return args.node;
  };
  transformResult: KyselyPlugin["transformResult"] = async (args) => {
    const started = this.#started.get(args.queryId);
    if (started) {
      this.#started.delete(args.queryId);
      this.ms.set(started.what, (this.ms.get(started.what) ?? 0) + performance.now() - started.at);
    }
    return args.result;
  };
}

/** "update servers", "insert into ledger_entries", …: what a statement is, for its time. */
function statementOf(node: RootOperationNode): string {
  const name = (table: unknown) =>
    (table as { table?: { identifier?: { name?: string } } } | undefined)?.table?.identifier?.name ?? "?";
  switch (node.kind) {
    case "SelectQueryNode":
      return `select from ${name(node.from?.froms[0])}`;
    case "UpdateQueryNode":
      return `update ${name(node.table)}`;
    case "InsertQueryNode":
      return `insert into ${name(node.into)}`;
    default:
      return node.kind;
  }
}

interface Figure {
  seconds: number;
  hours: number;
  statements: number;
  transactions: number;
}

function counted(repos: Repositories, counter: StatementCounter): () => Figure & { reset(): void } {
  let transactions = 0;
  const transaction = repos.transaction.bind(repos);
  repos.transaction = (work) => {
    transactions++;
    return transaction(work);
  };
  let started = performance.now();
  return () => ({
    seconds: (performance.now() - started) / 1000,
    hours: 0,
    statements: counter.count,
    transactions,
    reset() {
      counter.count = 0;
      transactions = 0;
      started = performance.now();
    },
  });
}

async function measure(backend: "sqlite" | "postgres"): Promise<{ baseline: Figure; cycle: Figure }> {
  const url = await freshDatabase(backend, "vps_bench_billing");
  const database = await openDatabase(url);
  try {
    const seeded = performance.now();
    await seedServers(database.db, SERVERS);
    console.log(
      `${backend}: ${SERVERS} servers seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`,
    );
    const counter = new StatementCounter();
    const repos = new Repositories(database.db.withPlugin(counter));
    const figures = counted(repos, counter);
    // The baseline moves the hour each server was seeded with (paid until an hour from the seeding) on by an hour;
    // the cycle, two hours ahead, charges the hour after that: each server once in each.
    const baselineNow = new Date(Date.now() + HOUR_MS).toISOString();
    const now = () => new Date(Date.now() + 2 * HOUR_MS);

    let start = figures();
    start.reset();
    let hours = 0;
    for (;;) {
      const due = await repos.billing.due(baselineNow, 500);
      if (due.length === 0) break;
      for (const server of due) {
        const moved = await repos.transaction((tx) =>
          tx.billing.advance(server.id, server.billed_until, hourAfter(server.billed_until)),
        );
        if (moved) hours++;
      }
    }
    const baseline = { ...figures(), hours };

    start = figures();
    start.reset();
    const cycle = new BillingCycle({
      repos,
      clock: { now },
      log: pino({ level: "silent" }),
      notifier: { wake() {} },
      intervalMs: 60_000,
      maxAttempts: 3,
      backupPricePercent: 20,
      snapshotPriceMinorPerGbMonth: 1,
      lowBalanceMinor: 500, // the setting's default (5.00)
      bandwidthPriceMinorPerGb: 1, // the setting's default (0.01)
    });
    counter.ms.clear();
    const { charged } = await cycle.runOnce();
    const result = { ...figures(), hours: charged };
    console.log(`${backend}: the cycle's time by statement (from sent to answered, ms per 1,000 hours):`);
    for (const [what, ms] of [...counter.ms].sort((a, b) => b[1] - a[1])) {
      console.log(`  ${((ms / charged) * 1000).toFixed(0).padStart(6)}  ${what}`);
    }
    return { baseline, cycle: result };
  } finally {
    await database.close();
  }
}

const line = (backend: string, name: string, f: Figure) =>
  `${backend}: ${name}: ${f.hours} hours in ${f.seconds.toFixed(1)} s, ${Math.round(f.hours / f.seconds)} hours/s, ` +
  `${(f.statements / f.hours).toFixed(2)} statements and ${(f.transactions / f.hours).toFixed(2)} transactions per hour`;

for (const backend of POSTGRES ? (["sqlite", "postgres"] as const) : (["sqlite"] as const)) {
  const { baseline, cycle } = await measure(backend);
  console.log(line(backend, "baseline", baseline));
  console.log(line(backend, "billing cycle", cycle));
  const rate = cycle.hours / cycle.seconds / (baseline.hours / baseline.seconds);
  console.log(
    `${backend}: ratio ${rate.toFixed(2)} of the baseline's hours/s, ` +
      `${(cycle.statements / cycle.hours / (baseline.statements / baseline.hours)).toFixed(2)}× its statements per hour`,
  );
}
rmSync(work, { recursive: true, force: true });
