import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { boot, type ControlPlane } from "../../src/boot.ts";
import type { DriverCall } from "../../src/drivers/driver.ts";
import { type Client, eventually, waitForStatus } from "../support/client.ts";
import { createActiveServers, silenceEngine } from "../support/host-outage.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const SERVERS = "/api/v1/servers/";
const call: DriverCall = { signal: new AbortController().signal, log: pino({ level: "silent" }) };

/**
 * The process that drives the embedded hosts dies; while it is gone the hosts are marked down, requests keep
 * coming and the machines drift (as after the hypervisor's own reboot); then the process comes back.
 */
describe("an embedded host that returns after it was down", () => {
  const clock = new SettableClock();
  let t: TestApp;
  let api: Client;
  let again: ControlPlane | undefined;
  let ids: Record<string, number>;
  let goneAddresses: string[];

  const power = (id: number | string) => t.driver.info(String(id));
  const held = async (addresses: string[]) =>
    (
      await t.database.db
        .selectFrom("ip_addresses")
        .select("address")
        .where("address", "in", addresses)
        .where("server_id", "is not", null)
        .execute()
    ).length;

  before(async () => {
    t = await startTestApp({}, clock);
    api = await t.newAccount("20.00");
    ids = await createActiveServers(api, [
      ["steady", "us-west"],
      ["sleeper", "us-west"],
      ["waker", "us-west"],
      ["gone", "us-west"],
      ["east", "us-east"],
    ]);
    assert.equal((await api.post(`${SERVERS}${ids.waker}/stop/`)).status, 200);
    await waitForStatus(api, ids.waker as number, "stopped");
    goneAddresses = (
      await t.database.db
        .selectFrom("ip_addresses")
        .select("address")
        .where("server_id", "=", ids.gone as number)
        .execute()
    ).map((row) => row.address);
    assert.ok(goneAddresses.length > 0);

    // The process's engine dies: no heartbeat, no worker.
    await silenceEngine(t);
    clock.advance(120_000);
    // us-east's host is driven elsewhere and stays up.
    await t.database.db
      .updateTable("hosts")
      .set({ last_heartbeat_at: clock.now().toISOString() })
      .where("name", "=", "sim-us-east")
      .execute();

    const deleted = await api.delete(`${SERVERS}${ids.gone}/`);
    assert.equal(deleted.status, 204, deleted.text);
    await t.driver.stop(String(ids.sleeper));
    await t.driver.start(String(ids.waker), call);
    await t.driver.stop(String(ids.east));
    await t.driver.create(
      {
        id: "987654",
        hostname: "stray",
        vcpus: 1,
        memoryMb: 512,
        storageGb: 10,
        image: "debian-12.qcow2",
        sshPublicKey: null,
        ipv4: null,
        ipv6: null,
      },
      call,
    );
  });
  after(async () => {
    await again?.close();
    await t.close();
  });

  it("keeps a deleted server's addresses while its machine may still run", async () => {
    assert.equal(await power(ids.gone as number), "running");
    assert.equal(await held(goneAddresses), goneAddresses.length);
  });

  it("converges when its process starts again: what should run runs, what should not is stopped or destroyed", async () => {
    again = await boot({ config: t.app.config, log: pino({ level: "silent" }), clock });
    await again.engine.start();

    await eventually(async () => ((await power(ids.gone as number)) === "missing" ? true : undefined));
    await eventually(
      async () => ((await held(goneAddresses)) === 0 ? true : undefined),
      10_000,
      "addresses freed",
    );
    assert.equal(await power("987654"), "missing", "a machine of no server is destroyed");

    await waitForStatus(api, ids.sleeper as number, "active");
    await eventually(async () => ((await power(ids.sleeper as number)) === "running" ? true : undefined));
    await eventually(async () => ((await power(ids.waker as number)) === "stopped" ? true : undefined));
    await waitForStatus(api, ids.waker as number, "stopped");
    assert.equal(await power(ids.steady as number), "running");

    const operations = async (id: number) =>
      (await api.get(`${SERVERS}${id}/actions/`)).body.results.map((a: { command: string }) => a.command);
    assert.deepEqual(
      await operations(ids.steady as number),
      ["create"],
      "nothing done to a server that matched",
    );
    assert.deepEqual(await operations(ids.sleeper as number), ["start", "create"]);
    assert.deepEqual(await operations(ids.waker as number), ["stop", "stop", "create"]);
  });

  it("leaves the machines of another host's servers alone", async () => {
    assert.equal(await power(ids.east as number), "stopped", "us-east did not return: nothing started there");
  });
});
