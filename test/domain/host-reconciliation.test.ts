import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type ObservedPower,
  type ReconciledServer,
  reconciliationPlan,
} from "../../src/domain/host-reconciliation.ts";

const HOST = 7;
const server = (id: number, status: ReconciledServer["status"], more: Partial<ReconciledServer> = {}) => ({
  id,
  hostId: HOST,
  status,
  deleted: false,
  busy: false,
  ...more,
});

/** The one correction for one machine of the host, or none. */
function planFor(power: ObservedPower, row: ReconciledServer | undefined, machine = "42") {
  return reconciliationPlan(HOST, new Map([[machine, power]]), row ? [row] : []).map((c) => c.action);
}

describe("the reconciliation plan of a host that returns", () => {
  const cases: [string, ObservedPower, ReconciledServer | undefined, string[], string?][] = [
    ["an active server's machine that is off is started", "stopped", server(42, "active"), ["start"]],
    ["an active server's running machine is left", "running", server(42, "active"), []],
    ["a stopped server's running machine is stopped", "running", server(42, "stopped"), ["stop"]],
    ["a suspended server's running machine is stopped", "running", server(42, "suspended"), ["stop"]],
    ["a stopped server's machine that is off is left", "stopped", server(42, "stopped"), []],
    [
      "a deleted server's machine is destroyed",
      "running",
      server(42, "deleting", { deleted: true }),
      ["destroy"],
    ],
    ["even when it is off", "stopped", server(42, "deleting", { deleted: true }), ["destroy"]],
    ["a machine of no server is destroyed", "running", undefined, ["destroy"]],
    ["a busy server is left to its operation", "stopped", server(42, "active", { busy: true }), []],
    ["a busy deleted server too", "running", server(42, "deleting", { deleted: true, busy: true }), []],
    ["a server in error is left alone", "running", server(42, "error"), []],
    ["a transitional status is left alone", "stopped", server(42, "starting"), []],
    [
      "a server placed on another host is never started here",
      "stopped",
      server(42, "active", { hostId: 8 }),
      [],
    ],
    ["nor destroyed here", "running", server(42, "deleting", { hostId: 8, deleted: true }), []],
    [
      "a server made before placement is not this host's",
      "stopped",
      server(42, "active", { hostId: null }),
      [],
    ],
    ["a missing machine needs nothing", "missing", server(42, "active"), []],
    ["a machine not named by a server id is not ours", "running", undefined, [], "backup-vm"],
    ["nor one with a leading zero", "running", undefined, [], "042"],
  ];
  for (const [what, power, row, expected, machine] of cases) {
    it(what, () => assert.deepEqual(planFor(power, row, machine), expected));
  }

  it("names each correction's machine, server and status, in machine order", () => {
    const plan = reconciliationPlan(
      HOST,
      new Map<string, ObservedPower>([
        ["10", "stopped"],
        ["9", "running"],
        ["11", "running"],
        ["12", "running"],
      ]),
      [server(9, "stopped"), server(10, "active"), server(11, "suspended")],
    );
    assert.deepEqual(plan, [
      { machine: "9", action: "stop", serverId: 9, status: "stopped" },
      { machine: "10", action: "start", serverId: 10, status: "active" },
      { machine: "11", action: "stop", serverId: 11, status: "suspended" },
      { machine: "12", action: "destroy", serverId: null, status: null },
    ]);
  });
});
