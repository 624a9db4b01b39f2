import assert from "node:assert/strict";
import { it } from "node:test";
import { client, waitForStatus } from "../support/client.ts";
import { type Backend, clusterSuite, POSTGRES_SKIP } from "../support/process-cluster.ts";

// The compare-and-swap on the server's status is what makes one of many concurrent conflicting requests win,
// whichever process each of them reaches.

const OWNER_TOKEN = "contention-owner-0123456789abcdef";
const ENV = {
  VPS_ADMIN_TOKEN: "contention-admin-0123456789abcdef",
  VPS_BOOTSTRAP_TOKEN: OWNER_TOKEN,
  VPS_SIM_DELAY_MS: "200",
  VPS_POLL_MS: "200",
  VPS_LEASE_MS: "2000",
  VPS_POWER_SYNC_MS: "60000",
};
const REQUESTS = 50;

function suite(title: string, backend: Backend, size: number, skip: string | false): void {
  clusterSuite(title, { backend, size, env: ENV, skip }, (cluster) => {
    it(`${REQUESTS} simultaneous start requests on one stopped server, spread across processes: exactly one 200, the rest 400, and exactly one start performed by the driver`, async (t) => {
      const c = cluster();
      const api = client(c.urls[0] as string, OWNER_TOKEN);
      const created = await api.post("/api/v1/servers/", {
        name: "contended",
        plan_id: 3,
        os_id: 3,
        location: "us-west",
      });
      assert.equal(created.status, 201, created.text);
      const id: number = created.body.id;
      await waitForStatus(api, id, "active", 20_000);
      const stop = await api.post(`/api/v1/servers/${id}/stop/`);
      assert.equal(stop.status, 200, stop.text);
      await waitForStatus(api, id, "stopped", 20_000);
      const bootCount = async () =>
        (
          await c.db
            .selectFrom("sim_machines")
            .select(["power", "boot_count"])
            .where("id", "=", String(id))
            .executeTakeFirstOrThrow()
        ).boot_count;
      const before = await bootCount();

      const outcomes = await Promise.all(
        Array.from({ length: REQUESTS }, (_, i) =>
          c.send("POST", `/api/v1/servers/${id}/start/`, OWNER_TOKEN, undefined, { slot: i % c.size }),
        ),
      );
      const answers = outcomes.map((o) =>
        o.kind === "response" ? `${o.status} ${o.body?.error?.code ?? o.body?.status}` : o.kind,
      );
      const tally = Object.fromEntries(
        [...new Set(answers)].sort().map((a) => [a, answers.filter((x) => x === a).length]),
      );
      t.diagnostic(`${backend}, ${c.size} process(es): ${JSON.stringify(tally)}`);
      const served = new Set(outcomes.flatMap((o) => (o.kind === "response" ? [o.slot] : [])));
      assert.equal(served.size, c.size, "every process answered some of the requests");
      assert.equal(answers.filter((a) => a.startsWith("200 ")).length, 1, JSON.stringify(tally));
      const refused = answers.filter((a) => a === "400 server_busy" || a === "400 server_already_running");
      assert.equal(refused.length, REQUESTS - 1, JSON.stringify(tally));

      await waitForStatus(api, id, "active", 20_000);
      assert.equal(await bootCount(), before + 1, "the machine was started exactly once");
      const starts = await c.db
        .selectFrom("operations")
        .select(["id", "status"])
        .where("server_id", "=", id)
        .where("kind", "=", "start")
        .execute();
      assert.equal(starts.length, 1, JSON.stringify(starts));
      assert.equal(starts[0]?.status, "succeeded");
    });
  });
}

suite("three processes on PostgreSQL", "postgres", 3, POSTGRES_SKIP);
suite("one process on SQLite", "sqlite", 1, false);
