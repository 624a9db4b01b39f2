import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextUsage } from "../../src/domain/usage.ts";

const plan = { vcpus: 2, memoryMb: 4096, storageGb: 80 };
/** The time `second` seconds past 10:00 on a day in November 2026. */
const at = (second: number) => `2026-11-26T10:00:${String(second).padStart(2, "0")}.000Z`;
/** A sample whose network counters stand at `netInBytes` and `netOutBytes`. */
const sample = (netInBytes: number, netOutBytes: number) => ({
  cpuTimeNs: 0,
  memoryUsedMb: 1,
  diskUsedGb: 1,
  netInBytes,
  netOutBytes,
});

describe("resource usage from cumulative counters", () => {
  it("turns CPU time into a percentage of the plan's vCPUs over the time since the last sample", () => {
    const first = nextUsage(
      undefined,
      { cpuTimeNs: 0, memoryUsedMb: 1000, diskUsedGb: 10, netInBytes: 0, netOutBytes: 0 },
      plan,
      "2026-11-26T10:00:00.000Z",
    );
    // 10 s later, 5 s of CPU time on 2 vCPUs: 25%.
    const second = nextUsage(
      first,
      { cpuTimeNs: 5e9, memoryUsedMb: 1000, diskUsedGb: 10, netInBytes: 0, netOutBytes: 3e9 },
      plan,
      "2026-11-26T10:00:10.000Z",
    );
    assert.equal(second.cpuPercent, 25);
    assert.equal(second.bandwidthBytes, 3e9);
  });

  it("counts a counter that went backwards (the machine restarted) from zero, never negative", () => {
    const before = nextUsage(
      undefined,
      { cpuTimeNs: 9e9, memoryUsedMb: 1, diskUsedGb: 1, netInBytes: 0, netOutBytes: 8e9 },
      plan,
      "2026-11-26T10:00:00.000Z",
    );
    const after = nextUsage(
      before,
      { cpuTimeNs: 1e9, memoryUsedMb: 1, diskUsedGb: 1, netInBytes: 0, netOutBytes: 1e9 },
      plan,
      "2026-11-26T10:00:10.000Z",
    );
    assert.equal(after.cpuPercent, 5);
    assert.equal(after.bandwidthBytes, 9e9);
  });

  it("starts bandwidth afresh each calendar month", () => {
    const november = nextUsage(
      undefined,
      { cpuTimeNs: 0, memoryUsedMb: 1, diskUsedGb: 1, netInBytes: 0, netOutBytes: 5e9 },
      plan,
      "2026-11-30T23:59:50.000Z",
    );
    const december = nextUsage(
      november,
      { cpuTimeNs: 0, memoryUsedMb: 1, diskUsedGb: 1, netInBytes: 0, netOutBytes: 6e9 },
      plan,
      "2026-12-01T00:00:10.000Z",
    );
    assert.equal(november.bandwidthBytes, 5e9);
    assert.equal(december.bandwidthBytes, 1e9);
  });

  it("never reports more than the plan gives", () => {
    const usage = nextUsage(
      {
        period: "2026-11",
        bandwidthBytes: 0,
        bandwidthInBytes: 0,
        bandwidthOutBytes: 0,
        lastCpuNs: 0,
        lastNetInBytes: 0,
        lastNetOutBytes: 0,
        sampledAt: "2026-11-26T10:00:00.000Z",
        diskUsed: 0,
      },
      { cpuTimeNs: 100e9, memoryUsedMb: 99_999, diskUsedGb: 999, netInBytes: 0, netOutBytes: 0 },
      plan,
      "2026-11-26T10:00:01.000Z",
    );
    assert.deepEqual([usage.cpuPercent, usage.memoryUsed, usage.diskUsed], [100, 4096, 80]);
  });

  it("shows a stopped machine with no CPU or memory but its disk still used", () => {
    const running = nextUsage(
      undefined,
      { cpuTimeNs: 0, memoryUsedMb: 900, diskUsedGb: 12, netInBytes: 0, netOutBytes: 0 },
      plan,
      "2026-11-26T10:00:00.000Z",
    );
    const stopped = nextUsage(running, null, plan, "2026-11-26T10:01:00.000Z");
    assert.deepEqual([stopped.cpuPercent, stopped.memoryUsed, stopped.diskUsed], [0, 0, 12]);
  });

  it("counts each direction apart; the month's billable bandwidth is the larger of the two", () => {
    const first = nextUsage(undefined, sample(1e9, 3e9), plan, at(0));
    assert.deepEqual(
      [first.bandwidthInBytes, first.bandwidthOutBytes, first.bandwidthBytes],
      [1e9, 3e9, 3e9],
    );
    const second = nextUsage(first, sample(6e9, 4e9), plan, at(10));
    assert.deepEqual([second.netInBytes, second.netOutBytes], [5e9, 1e9]);
    assert.deepEqual(
      [second.bandwidthInBytes, second.bandwidthOutBytes, second.bandwidthBytes],
      [6e9, 4e9, 6e9],
    );
  });

  it("keeps a stopped machine's network counters, so a driver's that go on after a restart are not counted twice", () => {
    const running = nextUsage(undefined, sample(2e9, 5e9), plan, at(0));
    const stopped = nextUsage(running, null, plan, at(10));
    // A tap keeps its counters while its VM is off: only what came after the start counts.
    const started = nextUsage(stopped, sample(2.5e9, 5e9), plan, at(20));
    assert.deepEqual([started.bandwidthInBytes, started.bandwidthOutBytes], [2.5e9, 5e9]);
  });

  it("takes the counters of a server whose last ones are unknown (kept before in and out were apart) as its start", () => {
    const usage = nextUsage(
      {
        period: "2026-11",
        bandwidthBytes: 7e9,
        bandwidthInBytes: 0,
        bandwidthOutBytes: 0,
        lastCpuNs: 0,
        lastNetInBytes: null,
        lastNetOutBytes: null,
        sampledAt: "2026-11-26T10:00:00.000Z",
        diskUsed: 0,
      },
      { cpuTimeNs: 0, memoryUsedMb: 1, diskUsedGb: 1, netInBytes: 4e9, netOutBytes: 9e9 },
      plan,
      "2026-11-26T10:00:10.000Z",
    );
    assert.deepEqual([usage.bandwidthInBytes, usage.bandwidthOutBytes, usage.bandwidthBytes], [0, 0, 7e9]);
    assert.deepEqual([usage.lastNetInBytes, usage.lastNetOutBytes], [4e9, 9e9]);
  });
});
