import assert from "node:assert/strict";
import { it, type TestContext } from "node:test";
import { client } from "../support/client.ts";
import {
  type Backend,
  clusterSuite,
  type Outcome,
  POSTGRES_SKIP,
  type ProcessCluster,
  sleep,
} from "../support/process-cluster.ts";

// The durable engine's promise under load: while processes are SIGKILLed and restarted at random, clients
// keep creating, powering and deleting servers; at the end every accepted request has had its effect
// exactly once, on the database, the API and the (simulated) machines alike.

const ADMIN_TOKEN = "faults-admin-token-0123456789abcdef";
const OWNER_TOKEN = "faults-owner-token-0123456789abcdef";
const ENV = {
  VPS_ADMIN_TOKEN: ADMIN_TOKEN,
  VPS_BOOTSTRAP_TOKEN: OWNER_TOKEN,
  VPS_SIM_DELAY_MS: "50",
  // A killed process's leases run out quickly, so another process resumes its operations.
  VPS_LEASE_MS: "2000",
  VPS_POLL_MS: "200",
  VPS_RETRY_BASE_MS: "200",
  // The power sync runs often, so it meets operations in flight and processes restarting.
  VPS_POWER_SYNC_MS: "1000",
};

const ACCOUNTS = 4;
const CLIENTS = 8;
/** Accepted creates each client makes at least (8 × 40 = 320) and at most (the address pools hold 3 × 241). */
const CREATE_QUOTA = 40;
const CREATE_MAX = 50;
const REQUESTS_MAX = 120;
const DRAIN_MS = 60_000;
const LOCATIONS = ["us-west", "us-east", "eu-central"];
const STARTER_PLAN = 3;
const DEBIAN_12 = 3;

type Action = "create" | "start" | "stop" | "reboot" | "delete";
type Final = "active" | "stopped" | "deleted";
type Result = "accepted" | "rejected" | "unknown";

const IMPLIES: Record<Action, Final> = {
  create: "active",
  start: "active",
  reboot: "active",
  stop: "stopped",
  delete: "deleted",
};
const ACCEPTED_STATUS: Record<Action, number> = {
  create: 201,
  start: 200,
  stop: 200,
  reboot: 200,
  delete: 204,
};
const TRANSITIONAL = new Set(["provisioning", "starting", "stopping", "rebooting", "deleting"]);

interface Tracked {
  name: string;
  accountIndex: number;
  client: number;
  /** Known once the create was answered, or found by name at the end when its answer was lost. */
  id: number | undefined;
  create: "accepted" | "unknown";
  /** The final states the requests sent so far allow: one, unless a request's outcome is unknown. */
  possible: Set<Final>;
  history: string[];
  accepted: Record<Action, number>;
  unknown: Record<Action, number>;
}

interface Account {
  id: number;
  token: string;
}

const counters = () => ({ create: 0, start: 0, stop: 0, reboot: 0, delete: 0 });
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

async function scenario(t: TestContext, cluster: ProcessCluster, kills: number): Promise<void> {
  const began = Date.now();
  const stats = { sent: 0, accepted: 0, rejected: 0, unknown: 0, unreachable: 0 };
  const byStatus = new Map<string, number>();
  /** Answers no request should get here: 5xx, a create refused, a power action refused for a reason that cannot be. */
  const anomalies: string[] = [];
  const tracked: Tracked[] = [];

  const accounts: Account[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const created = await cluster.send("POST", "/api/v1/admin/accounts/", ADMIN_TOKEN, {
      email: `load-${i}@example.com`,
      credit: "1000.00",
    });
    assert.equal(created.kind, "response", JSON.stringify(created));
    assert.equal(created.kind === "response" && created.status, 201, JSON.stringify(created));
    if (created.kind === "response") accounts.push({ id: created.body.id, token: created.body.api_token });
  }

  const record = (action: Action, outcome: Outcome): Result => {
    stats.sent++;
    const label = outcome.kind === "response" ? String(outcome.status) : outcome.kind;
    byStatus.set(`${action} ${label}`, (byStatus.get(`${action} ${label}`) ?? 0) + 1);
    if (outcome.kind === "unreachable") {
      stats.unreachable++;
      return "rejected";
    }
    if (outcome.kind === "unknown") {
      stats.unknown++;
      return "unknown";
    }
    if (outcome.status === ACCEPTED_STATUS[action]) {
      stats.accepted++;
      return "accepted";
    }
    if (outcome.status >= 500) {
      anomalies.push(`${action}: ${outcome.status} ${JSON.stringify(outcome.body)}`);
      stats.unknown++;
      return "unknown";
    }
    stats.rejected++;
    return "rejected";
  };

  let chaosDone = false;
  // Every 1-2 s a process that is up is killed and restarted on its port in the background; with several
  // processes the next kill does not wait for that restart, so at times more than one is down.
  const chaos = (async () => {
    const restarting = new Map<number, Promise<unknown>>();
    const restartErrors: unknown[] = [];
    const upSlots = () =>
      Array.from({ length: cluster.size }, (_, slot) => slot).filter((slot) => cluster.isUp(slot));
    try {
      let due = Date.now();
      for (let k = 0; k < kills && restartErrors.length === 0; k++) {
        due += 1000 + Math.random() * 1000;
        await sleep(Math.max(0, due - Date.now()));
        if (upSlots().length === 0) await Promise.all(restarting.values());
        const up = upSlots();
        if (up.length === 0) break;
        const slot = pick(up);
        await cluster.kill(slot);
        restarting.set(
          slot,
          cluster
            .restart(slot)
            .catch((err: unknown) => restartErrors.push(err))
            .finally(() => restarting.delete(slot)),
        );
      }
    } finally {
      await Promise.all(restarting.values());
      chaosDone = true;
    }
    if (restartErrors.length > 0) throw restartErrors[0];
  })();

  const runClient = async (c: number): Promise<void> => {
    const accountIndex = c % ACCOUNTS;
    const account = accounts[accountIndex] as Account;
    let creates = 0;
    let seq = 0;
    for (let sent = 0; sent < REQUESTS_MAX && (creates < CREATE_QUOTA || !chaosDone); sent++) {
      await sleep(50 + Math.random() * 150);
      const mine = tracked.filter(
        (s) => s.client === c && s.id !== undefined && !(s.possible.size === 1 && s.possible.has("deleted")),
      );
      const createRate = creates < CREATE_QUOTA ? 0.5 : 0.2;
      if (creates < CREATE_MAX && (mine.length < 3 || Math.random() < createRate)) {
        const name = `load-c${c}-n${seq}`;
        const outcome = await cluster.send("POST", "/api/v1/servers/", account.token, {
          name,
          plan_id: STARTER_PLAN,
          os_id: DEBIAN_12,
          location: LOCATIONS[seq % LOCATIONS.length],
        });
        seq++;
        const result = record("create", outcome);
        if (result === "rejected") {
          anomalies.push(`create ${name}: ${JSON.stringify(outcome)}`);
          continue;
        }
        if (result === "accepted") creates++;
        tracked.push({
          name,
          accountIndex,
          client: c,
          id: result === "accepted" && outcome.kind === "response" ? outcome.body.id : undefined,
          create: result === "accepted" ? "accepted" : "unknown",
          possible: new Set(["active"]),
          history: [`create:${result}`],
          accepted: { ...counters(), create: result === "accepted" ? 1 : 0 },
          unknown: { ...counters(), create: result === "unknown" ? 1 : 0 },
        });
        continue;
      }
      if (mine.length === 0) continue;
      const server = pick(mine);
      const believed = server.possible.size === 1 ? [...server.possible][0] : undefined;
      const action: Action =
        Math.random() < 0.1
          ? "delete"
          : believed === "active"
            ? pick(["stop", "reboot"] as const)
            : believed === "stopped"
              ? "start"
              : pick(["start", "stop", "reboot"] as const);
      const outcome =
        action === "delete"
          ? await cluster.send("DELETE", `/api/v1/servers/${server.id}/`, account.token)
          : await cluster.send("POST", `/api/v1/servers/${server.id}/${action}/`, account.token);
      const result = record(action, outcome);
      server.history.push(`${action}:${result}${outcome.kind === "response" ? `(${outcome.status})` : ""}`);
      if (result === "accepted") {
        server.accepted[action]++;
        server.possible = new Set([IMPLIES[action]]);
      } else if (result === "unknown") {
        server.unknown[action]++;
        server.possible.add(IMPLIES[action]);
      } else if (outcome.kind === "response") {
        const code = outcome.body?.error?.code;
        const expected =
          outcome.status === 404
            ? server.possible.has("deleted")
            : outcome.status === 400 &&
              ["server_busy", "server_already_running", "server_not_running"].includes(code);
        if (!expected)
          anomalies.push(`${action} ${server.id}: ${outcome.status} ${JSON.stringify(outcome.body)}`);
      }
    }
  };

  const [chaosResult, ...clientResults] = await Promise.allSettled([
    chaos,
    ...Array.from({ length: CLIENTS }, (_, c) => runClient(c)),
  ]);
  for (const settled of [chaosResult, ...clientResults]) {
    if (settled?.status === "rejected") throw settled.reason;
  }

  const trafficSeconds = ((Date.now() - began) / 1000).toFixed(1);
  // The chaos is over: every process up, and the engine given the time to finish what was accepted.
  await cluster.ensureAllUp();
  const drainDeadline = Date.now() + DRAIN_MS;
  let unfinished = Number.POSITIVE_INFINITY;
  while (Date.now() < drainDeadline) {
    const row = await cluster.db
      .selectFrom("operations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "in", ["pending", "running"])
      .executeTakeFirstOrThrow();
    unfinished = Number(row.n);
    if (unfinished === 0) break;
    await sleep(200);
  }
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  const drainSeconds = ((Date.now() - drainDeadline + DRAIN_MS) / 1000).toFixed(1);
  const acceptedCreates = tracked.filter((s) => s.create === "accepted").length;
  t.diagnostic(
    `${cluster.backend}: ${stats.sent} requests sent, ${stats.accepted} accepted, ${stats.rejected} rejected, ` +
      `${stats.unknown} unknown, ${stats.unreachable} unreachable; ${acceptedCreates} creates accepted; ` +
      `${cluster.kills} kills; ${seconds} s (traffic ${trafficSeconds} s, drain ${drainSeconds} s)`,
  );
  t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries([...byStatus].sort()))}`);
  assert.equal(unfinished, 0, `operations still unfinished ${DRAIN_MS} ms after the chaos ended`);
  assert.equal(cluster.kills, kills);
  assert.ok(acceptedCreates >= 300, `only ${acceptedCreates} creates were accepted`);
  assert.deepEqual(anomalies, [], "answers that no request should get");

  const problems: string[] = [];
  const accountIds = accounts.map((a) => a.id);
  const db = cluster.db;

  // Every server exactly once: a create that was answered is there once with its id; one whose answer was lost
  // is there at most once; nothing else is there.
  const rows = await db
    .selectFrom("servers")
    .select(["id", "name", "status", "deleted_at", "account_id"])
    .where("account_id", "in", accountIds)
    .orderBy("id")
    .execute();
  const rowsByName = new Map<string, typeof rows>();
  for (const row of rows) rowsByName.set(row.name, [...(rowsByName.get(row.name) ?? []), row]);
  const rowById = new Map(rows.map((row) => [row.id, row]));
  const names = new Set(tracked.map((s) => s.name));
  for (const row of rows) {
    if (!names.has(row.name)) problems.push(`server ${row.id} (${row.name}) was created by no client`);
  }
  let lostCreatesApplied = 0;
  for (const s of tracked) {
    const found = rowsByName.get(s.name) ?? [];
    if (s.create === "accepted") {
      if (found.length !== 1 || found[0]?.id !== s.id) {
        problems.push(`${s.name}: created as ${s.id}, found ${JSON.stringify(found.map((r) => r.id))}`);
      }
    } else if (found.length > 1) {
      problems.push(`${s.name}: a create whose answer was lost made ${found.length} servers`);
    } else if (found[0]) {
      s.id = found[0].id;
      lostCreatesApplied++;
    }
  }
  const existing = tracked.filter((s) => s.id !== undefined);
  const finalOf = (s: Tracked) => {
    const row = rowById.get(s.id as number);
    return row?.deleted_at != null ? "deleted" : row?.status;
  };

  // Each server's final state is the one its last accepted request implies (either side of an unknown one).
  for (const s of existing) {
    const row = rowById.get(s.id as number);
    if (!row) continue;
    const actual = finalOf(s) as string;
    if (!s.possible.has(actual as Final)) {
      problems.push(
        `server ${s.id}: ${actual}, expected ${[...s.possible].join(" or ")} after ${s.history.join(", ")}`,
      );
    }
    if (row.deleted_at === null && TRANSITIONAL.has(row.status)) {
      problems.push(`server ${s.id} was left ${row.status}`);
    }
  }

  // Operations: all finished, none failed, and as many of each kind as requests accepted (plus at most the
  // unknown ones): no request acted twice and none was dropped.
  const ops = await db
    .selectFrom("operations")
    .select(["id", "server_id", "kind", "status", "attempts", "error_code", "error_message"])
    .where("account_id", "in", accountIds)
    .execute();
  for (const op of ops) {
    if (op.status !== "succeeded" && op.status !== "cancelled") {
      problems.push(
        `operation ${op.id} (${op.kind} of server ${op.server_id}) ended ${op.status}: ${op.error_code} ${op.error_message}`,
      );
    }
  }
  for (const s of existing) {
    for (const kind of Object.keys(IMPLIES) as Action[]) {
      const n = ops.filter((op) => op.server_id === s.id && op.kind === kind).length;
      const min = kind === "create" ? 1 : s.accepted[kind];
      const max = kind === "create" ? 1 : s.accepted[kind] + s.unknown[kind];
      if (n < min || n > max) {
        problems.push(
          `server ${s.id}: ${n} ${kind} operations for ${min}..${max} requests (${s.history.join(", ")})`,
        );
      }
    }
  }
  const existingIds = new Set(existing.map((s) => s.id));
  for (const op of ops) {
    if (!existingIds.has(op.server_id))
      problems.push(`operation ${op.id} is for server ${op.server_id}, unknown to clients`);
  }

  // Addresses: each server that exists holds one IPv4 and at most one IPv6; a deleted one holds none.
  const held = await db
    .selectFrom("ip_addresses")
    .select(["address", "family", "server_id"])
    .where("server_id", "is not", null)
    .execute();
  const heldBy = new Map<number, typeof held>();
  for (const a of held) heldBy.set(a.server_id as number, [...(heldBy.get(a.server_id as number) ?? []), a]);
  for (const a of held) {
    const row = rowById.get(a.server_id as number);
    if (!row)
      problems.push(`${a.address} is held by server ${a.server_id}, which is not one of the clients'`);
    else if (row.deleted_at !== null) problems.push(`${a.address} is still held by deleted server ${row.id}`);
  }
  for (const s of existing) {
    if (finalOf(s) === "deleted") continue;
    const mine = heldBy.get(s.id as number) ?? [];
    const v4 = mine.filter((a) => a.family === 4).length;
    const v6 = mine.filter((a) => a.family === 6).length;
    if (v4 !== 1 || v6 > 1) problems.push(`server ${s.id} holds ${v4} IPv4 and ${v6} IPv6 addresses`);
  }

  // Machines: an active server's runs, a stopped one's is off, a deleted one's is gone; no machine of nobody.
  const machines = await db.selectFrom("sim_machines").select(["id", "power"]).execute();
  const machineById = new Map(machines.map((m) => [m.id, m.power]));
  for (const s of existing) {
    const power = machineById.get(String(s.id));
    const final = finalOf(s);
    const expected = final === "active" ? "running" : final === "stopped" ? "stopped" : undefined;
    if (power !== expected)
      problems.push(`server ${s.id} is ${final} but its machine is ${power ?? "missing"}`);
  }
  for (const m of machines) {
    const row = rowById.get(Number(m.id));
    if (!row || row.deleted_at !== null) problems.push(`machine ${m.id} (${m.power}) has no live server`);
  }

  // The API says the same: each account lists exactly its live servers with their statuses; deleted ones are 404.
  for (const [index, account] of accounts.entries()) {
    const api = client(pick(cluster.urls), account.token);
    const listed = new Map<number, string>();
    let count = -1;
    for (let page = 1; ; page++) {
      const res = await api.get(`/api/v1/servers/?page=${page}&page_size=500`);
      assert.equal(res.status, 200, res.text);
      count = res.body.count;
      for (const server of res.body.results) listed.set(server.id, server.status);
      if (!res.body.next) break;
    }
    const expected = existing.filter((s) => s.accountIndex === index && finalOf(s) !== "deleted");
    if (count !== expected.length || listed.size !== expected.length) {
      problems.push(
        `account ${account.id}: the API lists ${count} servers, the clients made ${expected.length} that live`,
      );
    }
    for (const s of expected) {
      const status = listed.get(s.id as number);
      if (status !== finalOf(s))
        problems.push(`server ${s.id}: the API says ${status}, the database ${finalOf(s)}`);
    }
    for (const s of existing.filter((x) => x.accountIndex === index && finalOf(x) === "deleted")) {
      const res = await api.get(`/api/v1/servers/${s.id}/`);
      if (res.status !== 404) problems.push(`deleted server ${s.id}: GET answers ${res.status}`);
    }
  }

  const deleted = existing.filter((s) => finalOf(s) === "deleted").length;
  t.diagnostic(
    `${existing.length} servers (${lostCreatesApplied} from creates whose answer was lost), ${deleted} deleted; ` +
      `${ops.length} operations, ${ops.filter((op) => op.attempts > 1).length} of them resumed after their worker died`,
  );
  assert.deepEqual(problems, []);
}

function suite(title: string, backend: Backend, size: number, kills: number, skip: string | false): void {
  clusterSuite(title, { backend, size, env: ENV, skip }, (cluster) => {
    it("loses no operation and does none twice while processes are killed under load", (t) =>
      scenario(t, cluster(), kills));
  });
}

suite("three processes on PostgreSQL", "postgres", 3, 8, POSTGRES_SKIP);
// One process is down for a whole restart at every kill, so fewer of them keep the run short.
suite("one process on SQLite", "sqlite", 1, 6, false);
