import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  amountProblems,
  DEFAULT_RATIOS_MILLI,
  fits,
  freeAmounts,
  type Inventory,
  parseRatios,
  ratioToMilli,
} from "../../src/domain/host-capacity.ts";
import { admitsPlacement, effectiveState, freshSince, weigh } from "../../src/domain/host-placement.ts";

function host(partial: Partial<Inventory> = {}): Inventory {
  return {
    total: { vcpus: 8, memory_mb: 16_384, disk_gb: 500 },
    reserved: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
    ratioMilli: DEFAULT_RATIOS_MILLI,
    allocated: { vcpus: 0, memory_mb: 0, disk_gb: 0 },
    ...partial,
  };
}

const small = { vcpus: 1, memory_mb: 1024, disk_gb: 25 };

describe("the fit rule: (total − reserved) × ratio ≥ allocated + requested", () => {
  it("lets CPUs be overcommitted four times by default, and memory and disk not at all", () => {
    const full = host({ allocated: { vcpus: 31, memory_mb: 0, disk_gb: 0 } });
    assert.equal(fits(full, small), true, "31 + 1 of 8 × 4 vCPUs fits");
    assert.equal(fits(host({ allocated: { vcpus: 32, memory_mb: 0, disk_gb: 0 } }), small), false);
    assert.equal(fits(host({ allocated: { vcpus: 0, memory_mb: 15_360, disk_gb: 0 } }), small), true);
    assert.equal(fits(host({ allocated: { vcpus: 0, memory_mb: 15_361, disk_gb: 0 } }), small), false);
    assert.equal(fits(host({ allocated: { vcpus: 0, memory_mb: 0, disk_gb: 476 } }), small), false);
  });

  it("takes reserved amounts off the total before the ratio applies", () => {
    const reserved = host({ reserved: { vcpus: 0, memory_mb: 2048, disk_gb: 0 } });
    assert.equal(fits({ ...reserved, allocated: { vcpus: 0, memory_mb: 13_312, disk_gb: 0 } }, small), true);
    assert.equal(fits({ ...reserved, allocated: { vcpus: 0, memory_mb: 13_313, disk_gb: 0 } }, small), false);
    assert.equal(fits(host({ reserved: { vcpus: 9, memory_mb: 0, disk_gb: 0 } }), small), false);
  });

  it("compares ratios exactly, in thousandths: 1.1 × 10 GB is 11 GB, not 11.000000000000002", () => {
    // In floating point 10 × 1.1 is 11.000000000000002; in thousandths it is exactly 11,000.
    const disk = host({
      total: { vcpus: 8, memory_mb: 16_384, disk_gb: 10 },
      ratioMilli: { vcpus: 4000, memory_mb: 1000, disk_gb: 1100 },
    });
    assert.equal(fits(disk, { vcpus: 1, memory_mb: 1, disk_gb: 11 }), true);
    assert.equal(fits(disk, { vcpus: 1, memory_mb: 1, disk_gb: 12 }), false);
    assert.deepEqual(freeAmounts(disk), { vcpus: 32, memory_mb: 16_384, disk_gb: 11 });
  });

  it("shows nothing free, never a negative amount, on a host with more reserved than it has", () => {
    assert.deepEqual(freeAmounts(host({ reserved: { vcpus: 10, memory_mb: 0, disk_gb: 0 } })).vcpus, 0);
  });
});

describe("ratios and reserved amounts an operator may set", () => {
  it("reads ratios with up to three decimals from 0.001 to 1000", () => {
    assert.equal(ratioToMilli(4), 4000);
    assert.equal(ratioToMilli(1.5), 1500);
    assert.equal(ratioToMilli(0.001), 1);
    assert.equal(ratioToMilli(1000), 1_000_000);
    assert.equal(ratioToMilli(1.0001), null);
    assert.equal(ratioToMilli(0), null);
    assert.equal(ratioToMilli(-1), null);
    assert.equal(ratioToMilli(1000.001), null);
    assert.equal(ratioToMilli(Number.NaN), null);
  });

  it("names each field that is wrong", () => {
    const { milli, problems } = parseRatios("allocation_ratios", {
      vcpus: 16,
      memory_mb: 0.5,
      disk_gb: 1.23456,
    });
    assert.deepEqual(milli, { vcpus: 16_000, memory_mb: 500 });
    assert.deepEqual(Object.keys(problems), ["allocation_ratios.disk_gb"]);
    assert.deepEqual(Object.keys(amountProblems("reserved", { vcpus: -1, memory_mb: 1.5, disk_gb: 10 })), [
      "reserved.vcpus",
      "reserved.memory_mb",
    ]);
    assert.deepEqual(amountProblems("reserved", { vcpus: 100_000, memory_mb: 0 }), {});
    assert.deepEqual(Object.keys(amountProblems("capacity", { vcpus: 100_001 })), ["capacity.vcpus"]);
  });
});

describe("which hosts take servers, and in which order", () => {
  const now = new Date("2026-11-29T12:00:00.000Z");
  const since = freshSince(now);

  it("sees a host down when its last heartbeat is over a minute old or it never joined", () => {
    assert.equal(effectiveState("enabled", "2026-11-29T11:59:30.000Z", since), "enabled");
    assert.equal(effectiveState("enabled", "2026-11-29T11:58:59.999Z", since), "down");
    assert.equal(effectiveState("draining", null, since), "down");
    assert.equal(effectiveState("disabled", "2026-11-29T11:59:59.000Z", since), "disabled");
  });

  it("places only on enabled hosts that are up", () => {
    assert.deepEqual((["enabled", "disabled", "draining", "down"] as const).filter(admitsPlacement), [
      "enabled",
    ]);
  });

  it("spreads to the host with the most free memory, or packs onto the one with the least; ties by id", () => {
    const withFree = (id: number, allocatedMb: number) => ({
      id,
      inventory: host({ allocated: { vcpus: 0, memory_mb: allocatedMb, disk_gb: 0 } }),
    });
    const hosts = [withFree(3, 4096), withFree(1, 8192), withFree(2, 4096), withFree(4, 0)];
    assert.deepEqual(
      weigh(hosts, "spread").map((h) => h.id),
      [4, 2, 3, 1],
    );
    assert.deepEqual(
      weigh(hosts, "pack").map((h) => h.id),
      [1, 2, 3, 4],
    );
  });
});
