import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextUsage } from "../../src/domain/usage.ts";

const plan = { vcpus: 2, memoryMb: 4096, storageGb: 80 };

describe("resource usage from cumulative counters", () => {
  it("turns CPU time into a percentage of the plan's vCPUs over the time since the last sample", () => {
    const first = nextUsage(
      undefined,
      { cpuTimeNs: 0, memoryUsedMb: 1000, diskUsedGb: 10, netBytes: 0 },
      plan,
      "2026-11-26T10:00:00.000Z",
    );
    // 10 s later, 5 s of CPU time on 2 vCPUs: 25%.
    const second = nextUsage(
      first,
      { cpuTimeNs: 5e9, memoryUsedMb: 1000, diskUsedGb: 10, netBytes: 3e9 },
      plan,
      "2026-11-26T10:00:10.000Z",
    );
    assert.equal(second.cpuPercent, 25);
    assert.equal(second.bandwidthBytes, 3e9);
  });

  it("counts a counter that went backwards (the machine restarted) from zero, never negative", () => {
    const before = nextUsage(
      undefined,
      { cpuTimeNs: 9e9, memoryUsedMb: 1, diskUsedGb: 1, netBytes: 8e9 },
      plan,
      "2026-11-26T10:00:00.000Z",
    );
    const after = nextUsage(
      before,
      { cpuTimeNs: 1e9, memoryUsedMb: 1, diskUsedGb: 1, netBytes: 1e9 },
      plan,
      "2026-11-26T10:00:10.000Z",
    );
    assert.equal(after.cpuPercent, 5);
    assert.equal(after.bandwidthBytes, 9e9);
  });

  it("starts bandwidth afresh each calendar month", () => {
    const november = nextUsage(
      undefined,
      { cpuTimeNs: 0, memoryUsedMb: 1, diskUsedGb: 1, netBytes: 5e9 },
      plan,
      "2026-11-30T23:59:50.000Z",
    );
    const december = nextUsage(
      november,
      { cpuTimeNs: 0, memoryUsedMb: 1, diskUsedGb: 1, netBytes: 6e9 },
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
        lastCpuNs: 0,
        lastNetBytes: 0,
        sampledAt: "2026-11-26T10:00:00.000Z",
        diskUsed: 0,
      },
      { cpuTimeNs: 100e9, memoryUsedMb: 99_999, diskUsedGb: 999, netBytes: 0 },
      plan,
      "2026-11-26T10:00:01.000Z",
    );
    assert.deepEqual([usage.cpuPercent, usage.memoryUsed, usage.diskUsed], [100, 4096, 80]);
  });

  it("shows a stopped machine with no CPU or memory but its disk still used", () => {
    const running = nextUsage(
      undefined,
      { cpuTimeNs: 0, memoryUsedMb: 900, diskUsedGb: 12, netBytes: 0 },
      plan,
      "2026-11-26T10:00:00.000Z",
    );
    const stopped = nextUsage(running, null, plan, "2026-11-26T10:01:00.000Z");
    assert.deepEqual([stopped.cpuPercent, stopped.memoryUsed, stopped.diskUsed], [0, 0, 12]);
  });
});
