import assert from "node:assert/strict";
import { join } from "node:path";
import { before, it } from "node:test";
import { WebSocket } from "ws";
import { agentFleetSuite } from "../support/agent-fleet.ts";
import { type Client, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { openConsole, refusal } from "../support/console-client.ts";
import { freePort } from "../support/spawned-server.ts";

// A control plane with no host of its own and a host agent (separate processes, the agent's sim machines in its
// own state): a server's serial console crosses the control plane to the agent's transfer address and back.
const FLEET = {
  prefix: "console",
  plane: { VPS_LEASE_MS: "3000", VPS_RETRY_BASE_MS: "50" },
  agent: { VPS_SIM_DELAY_MS: "50", VPS_POWER_SYNC_MS: "300", VPS_CONSOLE_LIMIT: "1" },
};

agentFleetSuite("serial console through a host agent", FLEET, (fleet) => {
  let owner: Client;
  let port = 0;
  let serverId = 0;
  before(async () => {
    owner = fleet.owner;
    const { token } = await fleet.register("hv-console", "us-west");
    port = await freePort();
    await fleet.startAgent(join(fleet.dir, "hv-console"), {
      VPS_AGENT_TRANSFER_ADDRESS: `127.0.0.1:${port}`,
      VPS_JOIN_TOKEN: token,
    });
    const created = await owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "via-agent" });
    assert.equal(created.status, 201, created.text);
    serverId = created.body.id;
    await waitForStatus(owner, serverId, "active", 30_000);
  });

  const ticketUrl = async () => {
    const res = await owner.post(`/api/v1/servers/${serverId}/console/`);
    assert.equal(res.status, 201, res.text);
    return res.body.url as string;
  };

  it("shows the agent's machine's login prompt and carries what is typed to it", async () => {
    const console = await openConsole(await ticketUrl());
    await console.until(new RegExp(`sim-${serverId} login: $`));
    const mark = console.screen.length;
    console.type("admin\r");
    await console.until(/admin\r\nPassword: $/, 10_000, mark);
    console.close();
  });

  it("is held to the agent's own limit of consoles per machine (VPS_CONSOLE_LIMIT=1 there)", async () => {
    const first = await openConsole(await ticketUrl());
    await first.until(/login:/);
    assert.deepEqual(await refusal(await ticketUrl()), { status: 409, code: "console_limit_reached" });
    first.close();
    await first.closed;
  });

  it("refuses at the agent's listener a console asked with no grant or a made-up one", async () => {
    for (const headers of [{}, { authorization: `Bearer vpsg_${"B".repeat(40)}` }]) {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/consoles/${serverId}`, { headers });
      const status = await new Promise<number>((resolve, reject) => {
        socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        socket.once("open", () => reject(new Error("the agent opened a console without a valid grant")));
        socket.once("error", reject);
      });
      assert.equal(status, 403);
    }
  });
});
