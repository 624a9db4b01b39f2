import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Driver, DriverCall, MachineSpec } from "../../src/drivers/driver.ts";

/** What a test of one driver provides: a fresh driver, a spec its machines can be built from, and clean-up. */
export interface DriverUnderTest {
  driver: Driver;
  spec(id: string): MachineSpec;
  close(): Promise<void>;
}

const call = (): DriverCall => ({ signal: AbortSignal.timeout(300_000), log: pino({ level: "silent" }) });

/**
 * The behaviour every driver owes the engine. Above all, every method is idempotent: the engine repeats a step
 * after a crash or a lost lease, and a repeated step must succeed and change nothing more.
 */
export function driverContract(name: string, setUp: () => Promise<DriverUnderTest>): void {
  describe(`driver contract: ${name}`, () => {
    let d: DriverUnderTest;
    before(async () => {
      d = await setUp();
    });
    after(() => d.close());

    it("reports the host's capacity in whole units, and images that include the ones its machines boot from", async () => {
      const inventory = await d.driver.inventory(call());
      for (const amount of [inventory.vcpus, inventory.memoryMb, inventory.diskGb]) {
        assert.ok(Number.isSafeInteger(amount) && amount > 0, JSON.stringify(inventory));
      }
      if (inventory.images !== null) assert.ok(inventory.images.includes(d.spec("9001").image));
    });

    it("builds a machine once, however often create is called, and lists it", async () => {
      const spec = d.spec("9001");
      assert.equal(await d.driver.info("9001", call()), "missing");
      await d.driver.create(spec, call());
      await d.driver.create(spec, call());
      assert.equal(await d.driver.info("9001", call()), "stopped");
      assert.deepEqual(
        (await d.driver.list(call())).filter((id) => id === "9001"),
        ["9001"],
      );
    });

    it("starts a machine, and a start of a running machine succeeds and changes nothing", async () => {
      await d.driver.start("9001", call());
      assert.equal(await d.driver.info("9001", call()), "running");
      await d.driver.start("9001", call());
      assert.equal(await d.driver.info("9001", call()), "running");
    });

    it("reports counters of a running machine within its plan", async () => {
      const stats = await d.driver.stats("9001", call());
      assert.ok(stats, "a running machine has stats");
      const spec = d.spec("9001");
      assert.ok(stats.cpuTimeNs >= 0);
      assert.ok(stats.memoryUsedMb >= 0 && stats.memoryUsedMb <= spec.memoryMb);
      assert.ok(stats.diskUsedGb >= 0 && stats.diskUsedGb <= spec.storageGb);
      assert.ok(stats.netInBytes >= 0 && stats.netOutBytes >= 0);
    });

    it("reboots a running machine and leaves it running", async () => {
      await d.driver.reboot("9001", { hard: false }, call());
      assert.equal(await d.driver.info("9001", call()), "running");
    });

    it("shuts a machine down gracefully, and a shutdown of a stopped machine succeeds", async () => {
      await d.driver.shutdown("9001", { timeoutMs: 60_000 }, call());
      assert.equal(await d.driver.info("9001", call()), "stopped");
      await d.driver.shutdown("9001", { timeoutMs: 60_000 }, call());
      assert.equal(await d.driver.stats("9001", call()), null, "a stopped machine has no stats");
    });

    it("stops a running machine hard, and a stop of a stopped machine succeeds", async () => {
      await d.driver.start("9001", call());
      await d.driver.stop("9001", call());
      assert.equal(await d.driver.info("9001", call()), "stopped");
      await d.driver.stop("9001", call());
    });

    it("destroys a machine, and a destroy of a missing machine succeeds", async () => {
      await d.driver.destroy("9001", call());
      assert.equal(await d.driver.info("9001", call()), "missing");
      await d.driver.destroy("9001", call());
      assert.ok(!(await d.driver.list(call())).includes("9001"));
    });

    it("destroys a running machine", async () => {
      await d.driver.create(d.spec("9002"), call());
      await d.driver.start("9002", call());
      await d.driver.destroy("9002", call());
      assert.equal(await d.driver.info("9002", call()), "missing");
    });

    it("refuses to start a machine that does not exist, for good", async () => {
      await assert.rejects(
        d.driver.start("9404", call()),
        (err: { permanent?: boolean }) => err.permanent === true,
      );
    });

    it("gives up a step when its call is aborted", async () => {
      await d.driver.create(d.spec("9003"), call());
      const aborted: DriverCall = {
        signal: AbortSignal.abort(new Error("stop")),
        log: pino({ level: "silent" }),
      };
      await assert.rejects(d.driver.start("9003", aborted));
      await d.driver.destroy("9003", call());
    });
  });
}
