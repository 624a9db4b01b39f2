import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Client, Json } from "../support/client.ts";
import { waitForStatus } from "../support/client.ts";
import { createActiveServers, silenceEngine } from "../support/host-outage.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const SERVERS = "/api/v1/servers/";
const HOSTS = "/api/v1/admin/hosts/";
const DOWN_AFTER_MS = 30_000;
const UNAVAILABLE_AFTER_MS = 300_000;
const starter = (name: string, location: string) => ({ name, plan_id: 3, os_id: 3, location });

/**
 * The us-west embedded host goes quiet (its heartbeat stops, and no worker runs its operations, as when its
 * machine dies); the us-east host keeps beating.
 */
describe("operations on a host that goes quiet", () => {
  const clock = new SettableClock();
  let t: TestApp;
  let api: Client & { accountId: number };
  let ids: Record<string, number>;
  const actions: Record<string, number> = {};
  let balanceBefore: string;

  const action = async (id: number) => (await api.get(`/api/v1/actions/${id}/`)).body;
  const status = async (id: number) => (await api.get(`${SERVERS}${id}/`)).body.status;
  const hostId = async (name: string) =>
    ((await t.admin.get(`${HOSTS}?page_size=500`)).body.results as Json[]).find((h) => h.name === name)?.id;
  /** The live host's heartbeat, at the clock's time. */
  const eastBeats = async () =>
    t.database.db
      .updateTable("hosts")
      .set({ last_heartbeat_at: clock.now().toISOString() })
      .where("name", "=", "sim-us-east")
      .execute();

  before(async () => {
    t = await startTestApp({ VPS_HOST_UNAVAILABLE_AFTER_MS: String(UNAVAILABLE_AFTER_MS) }, clock);
    api = await t.newAccount("10.00");
    ids = await createActiveServers(api, [
      ["running", "us-west"],
      ["halted", "us-west"],
      ["doomed", "us-west"],
      ["east", "us-east"],
    ]);
    assert.equal((await api.post(`${SERVERS}${ids.halted}/stop/`)).status, 200);
    await waitForStatus(api, ids.halted as number, "stopped");

    // Nothing runs operations from here on, and no host beats.
    await silenceEngine(t);

    // A create queued while its host was up, then left waiting.
    balanceBefore = (await api.get("/api/v1/account/")).body.balance;
    const created = await api.post(SERVERS, starter("unborn", "us-west"));
    assert.equal(created.status, 201, created.text);
    ids.unborn = created.body.id;
    actions.unborn = created.body.action_id;

    clock.advance(DOWN_AFTER_MS + 1000);
    await eastBeats();
    const west = await t.admin.get(`${HOSTS}${await hostId("sim-us-west")}/`);
    assert.equal(west.body.state, "down", west.text);

    const queue = async (name: string, verb: string) => {
      const res = await api.post(`${SERVERS}${ids[name]}/${verb}/`);
      assert.equal(res.status, 200, res.text);
      actions[name] = res.body.action_id;
    };
    await queue("running", "stop");
    await queue("halted", "start");
    await queue("east", "reboot");
    const deleted = await api.delete(`${SERVERS}${ids.doomed}/`);
    assert.equal(deleted.status, 204, deleted.text);
    actions.doomed = Number(deleted.headers.get("action-id"));
  });
  after(() => t.close());

  it("leaves the operations waiting until the deadline", async () => {
    clock.advance(UNAVAILABLE_AFTER_MS - 60_000);
    await eastBeats();
    assert.equal(await t.app.engine.hostUnavailable.runOnce(), 0);
    for (const name of ["running", "halted", "unborn", "doomed", "east"]) {
      assert.equal((await action(actions[name] as number)).status, "running", name);
    }
    assert.equal(await status(ids.running as number), "stopping");
    assert.equal(await status(ids.halted as number), "starting");
  });

  it("then ends them host_unavailable with the statuses put back, once however many sweeps run", async () => {
    clock.advance(60_000);
    await eastBeats();
    const sweep = t.app.engine.hostUnavailable;
    const ended = await Promise.all([sweep.runOnce(), sweep.runOnce(), sweep.runOnce()]);
    assert.equal(
      ended.reduce((a, b) => a + b, 0),
      3,
      "the stop, the start and the create end once",
    );
    assert.equal(await sweep.runOnce(), 0, "a later sweep finds nothing");

    for (const name of ["running", "halted", "unborn"]) {
      const ended = await action(actions[name] as number);
      assert.equal(ended.status, "error", name);
      assert.equal(ended.error?.code, "host_unavailable", name);
    }
    assert.equal(await status(ids.running as number), "active", "a stop that gave up leaves it active");
    assert.equal(await status(ids.halted as number), "stopped", "a start that gave up leaves it stopped");
  });

  it("ends a create that gave up in error with its charge refunded, holding its addresses until its machine is destroyed", async () => {
    const server = (await api.get(`${SERVERS}${ids.unborn}/`)).body;
    assert.equal(server.status, "error");
    assert.equal(
      (await api.get("/api/v1/account/")).body.balance,
      balanceBefore,
      "the first hour given back",
    );
    assert.match(
      server.ip_address ?? "",
      /\d+\.\d+\.\d+\.\d+/,
      "its machine may exist: the address stays with it",
    );
    const allocation = await t.database.db
      .selectFrom("host_allocations")
      .select("server_id")
      .where("server_id", "=", ids.unborn as number)
      .executeTakeFirst();
    assert.ok(allocation, "and so does its room on the host");
  });

  it("never gives up a delete, nor an operation on a host that is up", async () => {
    clock.advance(3_600_000);
    await eastBeats();
    assert.equal(await t.app.engine.hostUnavailable.runOnce(), 0);
    assert.equal((await action(actions.doomed as number)).status, "running", "the delete waits for its host");
    assert.equal(
      (await action(actions.east as number)).status,
      "running",
      "the live host's reboot waits its turn",
    );
    assert.equal(await status(ids.east as number), "rebooting");
  });

  it("leaves an operation its holder's live lease still holds, and gives it up once the lease has run out", async () => {
    const res = await api.post(`${SERVERS}${ids.running}/reboot/`);
    assert.equal(res.status, 200, res.text);
    const holder = "a-worker-of-the-dead-host";
    const server = await t.app.repos.servers.findById(ids.running as number);
    const claimed = await t.app.repos.operations.claim(
      holder,
      [server?.host_id as number],
      clock.now().toISOString(),
      new Date(clock.now().getTime() + 2 * 3_600_000).toISOString(),
      10,
    );
    assert.ok(claimed.some((op) => op.id === res.body.action_id));

    clock.advance(UNAVAILABLE_AFTER_MS + 1000);
    await eastBeats();
    assert.equal(await t.app.engine.hostUnavailable.runOnce(), 0, "its holder may still finish it");
    assert.equal((await action(res.body.action_id)).status, "running");

    clock.advance(2 * 3_600_000);
    await eastBeats();
    assert.equal(await t.app.engine.hostUnavailable.runOnce(), 1);
    const ended = await action(res.body.action_id);
    assert.equal(ended.error?.code, "host_unavailable", JSON.stringify(ended));
    assert.equal(await status(ids.running as number), "active");
    assert.equal((await action(actions.doomed as number)).status, "running", "the delete still waits");
  });
});
