// The set-up of tests where the process driving the embedded hosts dies: servers made while it ran, then silence.
import assert from "node:assert/strict";
import { type Client, waitForStatus } from "./client.ts";
import type { TestApp } from "./test-app.ts";

/** Creates each named server in its location through the API and waits until all are active: their ids by name. */
export async function createActiveServers(
  api: Client,
  servers: readonly (readonly [name: string, location: string])[],
): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const [name, location] of servers) {
    const created = await api.post("/api/v1/servers/", { name, plan_id: 3, os_id: 3, location });
    assert.equal(created.status, 201, created.text);
    ids[name] = created.body.id;
  }
  for (const id of Object.values(ids)) await waitForStatus(api, id, "active");
  return ids;
}

/** The app's engine dies as its hosts see it: no worker runs operations, no embedded host beats, no sweep. */
export async function silenceEngine(t: TestApp): Promise<void> {
  await t.app.engine.worker.stop(0);
  await t.app.engine.embeddedHosts?.stop();
  await t.app.engine.hostUnavailable.stop();
}
