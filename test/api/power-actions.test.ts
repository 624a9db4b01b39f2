import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const ACTIONS = ["start", "stop", "reboot"] as const;

// Every test has servers of its own, so they run concurrently: the slow simulated transitions overlap.
describe("power actions and delete", { concurrency: true }, () => {
  let t: TestApp;
  before(async () => {
    // Slow enough that every transitional status can be seen and acted on, even on a loaded machine.
    t = await startTestApp({ VPS_SIM_DELAY_MS: "1500" });
  });
  after(() => t.close());

  let names = 0;
  async function createServer(): Promise<number> {
    const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: `power-${++names}` });
    assert.equal(res.status, 201, res.text);
    return res.body.id;
  }
  async function activeServer(): Promise<number> {
    const id = await createServer();
    await waitForStatus(t.owner, id, "active");
    return id;
  }
  async function stoppedServer(): Promise<number> {
    const id = await activeServer();
    assert.equal((await t.owner.post(`${SERVERS}${id}/stop/`)).status, 200);
    await waitForStatus(t.owner, id, "stopped");
    return id;
  }
  const act = (id: number, action: string) => t.owner.post(`${SERVERS}${id}/${action}/`);
  const statusOf = async (id: number) => (await t.owner.get(`${SERVERS}${id}/`)).body?.status;

  /** Every action on the server, sent at once while it is `status`, answers 400 with `code` and changes nothing. */
  async function expectAllRefused(id: number, status: string, code: string) {
    assert.equal(await statusOf(id), status);
    const responses = await Promise.all(ACTIONS.map((action) => act(id, action)));
    for (const res of responses) {
      expectError(res, 400, code);
      assert.equal(res.body.error.fields, undefined);
    }
    const { db } = t.app.services.repos;
    const queued = await db
      .selectFrom("operations")
      .select("kind")
      .where("server_id", "=", id)
      .where("status", "in", ["pending", "running"])
      .execute();
    assert.ok(queued.length <= 1, `refused actions queued work: ${JSON.stringify(queued)}`);
  }

  it("refuses start on an active server with server_already_running", async () => {
    const id = await activeServer();
    const res = await act(id, "start");
    expectError(res, 400, "server_already_running");
    assert.equal(await statusOf(id), "active");
  });

  it("refuses stop and reboot on a stopped server with server_not_running", async () => {
    const id = await stoppedServer();
    for (const action of ["stop", "reboot"]) {
      expectError(await act(id, action), 400, "server_not_running");
    }
    assert.equal(await statusOf(id), "stopped");
  });

  it("refuses every action while the server is provisioning with server_busy", async () => {
    const id = await createServer();
    await expectAllRefused(id, "provisioning", "server_busy");
    await waitForStatus(t.owner, id, "active");
  });

  it("refuses every action while the server is stopping, starting or rebooting with server_busy", async () => {
    const id = await activeServer();

    const stop = await act(id, "stop");
    assert.equal(stop.body.server.status, "stopping");
    await expectAllRefused(id, "stopping", "server_busy");
    await waitForStatus(t.owner, id, "stopped");

    const start = await act(id, "start");
    assert.equal(start.body.server.status, "starting");
    await expectAllRefused(id, "starting", "server_busy");
    await waitForStatus(t.owner, id, "active");

    const reboot = await act(id, "reboot");
    assert.equal(reboot.body.server.status, "rebooting");
    await expectAllRefused(id, "rebooting", "server_busy");
    await waitForStatus(t.owner, id, "active");
  });

  it("answers 404 to every action on a deleted server", async () => {
    const id = await activeServer();
    assert.equal((await t.owner.delete(`${SERVERS}${id}/`)).status, 204);
    for (const action of ACTIONS) expectError(await act(id, action), 404, "not_found");
    expectError(await t.owner.get(`${SERVERS}${id}/`), 404, "not_found");
    expectError(await t.owner.patch(`${SERVERS}${id}/`, { name: "ghost" }), 404, "not_found");
    expectError(
      await t.owner.put(`${SERVERS}${id}/`, {
        name: "ghost",
        hostname: "g.example.com",
        backups_enabled: true,
      }),
      404,
      "not_found",
    );
    expectError(await t.owner.delete(`${SERVERS}${id}/`), 404, "not_found");
  });

  describe("delete is accepted in every state", { concurrency: true }, () => {
    const states: [string, () => Promise<number>][] = [
      ["provisioning", createServer],
      ["active", activeServer],
      [
        "stopping",
        async () => {
          const id = await activeServer();
          assert.equal((await act(id, "stop")).status, 200);
          return id;
        },
      ],
      ["stopped", stoppedServer],
      [
        "starting",
        async () => {
          const id = await stoppedServer();
          assert.equal((await act(id, "start")).status, 200);
          return id;
        },
      ],
      [
        "rebooting",
        async () => {
          const id = await activeServer();
          assert.equal((await act(id, "reboot")).status, 200);
          return id;
        },
      ],
    ];
    for (const [state, make] of states) {
      it(`deletes a server that is ${state}: 204, then 404, then its machine and addresses are gone`, async () => {
        const id = await make();
        assert.equal(await statusOf(id), state);
        const res = await t.owner.delete(`${SERVERS}${id}/`);
        assert.equal(res.status, 204, res.text);
        assert.equal(res.text, "");
        expectError(await t.owner.get(`${SERVERS}${id}/`), 404, "not_found");
        const list = await t.owner.get(`${SERVERS}?page_size=500`);
        assert.ok(!list.body.results.some((s: Json) => s.id === id));

        const { db } = t.app.services.repos;
        await eventually(
          async () => {
            const held = await db
              .selectFrom("ip_addresses")
              .select("address")
              .where("server_id", "=", id)
              .execute();
            const machine = await db
              .selectFrom("sim_machines")
              .select("id")
              .where("id", "=", String(id))
              .executeTakeFirst();
            return held.length === 0 && machine === undefined ? true : undefined;
          },
          10_000,
          `server ${id}'s machine and addresses to be released`,
        );
        expectError(await t.owner.get(`${SERVERS}${id}/`), 404, "not_found");
      });
    }
  });

  it("lets exactly one of 20 concurrent starts through, and starts the machine once", async () => {
    const id = await stoppedServer();
    const { db } = t.app.services.repos;
    const bootsBefore = (
      await db
        .selectFrom("sim_machines")
        .select("boot_count")
        .where("id", "=", String(id))
        .executeTakeFirstOrThrow()
    ).boot_count;

    const responses = await Promise.all(Array.from({ length: 20 }, () => act(id, "start")));
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 400);
    assert.equal(ok.length, 1, responses.map((r) => `${r.status} ${r.text}`).join("\n"));
    assert.equal(refused.length, 19);
    for (const res of refused) {
      assert.ok(["server_busy", "server_already_running"].includes(res.body.error.code), res.text);
      expectError(res, 400, res.body.error.code);
    }
    assert.deepEqual(ok[0]?.body, {
      status: "success",
      message: "Server is starting",
      server: { id, name: ok[0]?.body.server.name, status: "starting" },
      action_id: ok[0]?.body.action_id,
    });

    await waitForStatus(t.owner, id, "active");
    const starts = await db
      .selectFrom("operations")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("server_id", "=", id)
      .where("kind", "=", "start")
      .executeTakeFirstOrThrow();
    assert.equal(Number(starts.n), 1);
    const machine = await db
      .selectFrom("sim_machines")
      .select(["power", "boot_count"])
      .where("id", "=", String(id))
      .executeTakeFirstOrThrow();
    assert.equal(machine.power, "running");
    assert.equal(machine.boot_count, bootsBefore + 1);
  });

  it("lets exactly one of concurrent conflicting stop and reboot requests through", async () => {
    const id = await activeServer();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => act(id, i % 2 === 0 ? "stop" : "reboot")),
    );
    assert.equal(responses.filter((r) => r.status === 200).length, 1);
    for (const res of responses.filter((r) => r.status !== 200)) expectError(res, 400, "server_busy");
    const { db } = t.app.services.repos;
    const ops = await db
      .selectFrom("operations")
      .select("kind")
      .where("server_id", "=", id)
      .where("kind", "in", ["stop", "reboot"])
      .execute();
    assert.equal(ops.length, 1);
  });

  it("accepts empty action POSTs with a JSON content type, another one, or none", async () => {
    const id = await activeServer();
    const post = (action: string, headers: Record<string, string>) =>
      fetch(`${t.url}${SERVERS}${id}/${action}/`, {
        method: "POST",
        headers: { Authorization: `Bearer ${t.owner.token}`, ...headers },
      });
    const bare = await post("reboot", {});
    assert.equal(bare.status, 200, await bare.text());
    await waitForStatus(t.owner, id, "active");
    const json = await post("stop", { "Content-Type": "application/json", "Content-Length": "0" });
    assert.equal(json.status, 200, await json.text());
    await waitForStatus(t.owner, id, "stopped");
    const text = await post("start", { "Content-Type": "text/plain" });
    assert.equal(text.status, 200, await text.text());
    await waitForStatus(t.owner, id, "active");
  });
});
