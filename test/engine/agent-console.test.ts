import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocketServer } from "ws";
import { connectAgentConsole } from "../../src/engine/agent-console.ts";

/**
 * The control plane's side of a console on a host agent: what the agent writes the moment the console opens (a
 * getty's login prompt) reaches the stream, however soon after the upgrade it comes.
 */
describe("connectAgentConsole", () => {
  let server: WebSocketServer;
  let url: string;
  before(async () => {
    // An agent that writes its prompt in the same breath as it accepts the upgrade.
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    server.on("connection", (ws) => ws.send(Buffer.from("sim-7 login: "), { binary: true }));
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("keeps the first bytes the agent sends right after the upgrade", async () => {
    for (let i = 0; i < 20; i++) {
      const stream = await connectAgentConsole(url, 7, "vpsg_grant", 5000);
      const [first] = (await Promise.race([
        once(stream, "data"),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`attempt ${i}: no bytes`)), 2000)),
      ])) as [Buffer];
      assert.equal(first.toString("utf8"), "sim-7 login: ");
      stream.destroy();
    }
  });
});
