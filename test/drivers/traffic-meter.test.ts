import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PUNCH_EVERY, TrafficMeter } from "../../src/drivers/qemu/traffic-meter.ts";
import { VmDirectory } from "../../src/drivers/qemu/vm-directory.ts";

/** A pcap file's header as QEMU's filter-dump writes it (little-endian host, snaplen 1, Ethernet). */
function pcapHeader(): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(1, 16);
  header.writeUInt32LE(1, 20);
  return header;
}

/** Records of frames of these lengths, each cut to one byte as `maxlen=1` does. */
function records(...lengths: number[]): Buffer {
  return Buffer.concat(lengths.map((length) => frames(1, length)));
}

/** `count` records of frames of `length` bytes. */
function frames(count: number, length: number): Buffer {
  const buffer = Buffer.alloc(count * 17);
  for (let at = 0; at < buffer.length; at += 17) {
    buffer.writeUInt32LE(1, at + 8);
    buffer.writeUInt32LE(length, at + 12);
  }
  return buffer;
}

/**
 * The meter's reading of filter-dump's pcap files, on files written here the way QEMU writes them: what it counts,
 * what it keeps for a restarted control plane, and what a VM's restart does to the totals.
 */
describe("the traffic meter's reading of a VM's pcap files", () => {
  const root = mkdtempSync(join(tmpdir(), "vps-meter-"));
  const vms = new VmDirectory(root);
  const signal = AbortSignal.timeout(60_000);
  after(() => rmSync(root, { recursive: true, force: true }));

  const vm = (id: string) => {
    vms.make(id);
    const meter = new TrafficMeter(vms);
    writeFileSync(meter.file(id, "in"), pcapHeader());
    writeFileSync(meter.file(id, "out"), pcapHeader());
    return meter;
  };

  it("adds up the frame lengths of each direction's records, leaving a record still being written for later", async () => {
    const meter = vm("1");
    appendFileSync(meter.file("1", "in"), records(60, 1514));
    const partial = records(1000);
    appendFileSync(meter.file("1", "out"), Buffer.concat([records(1514, 1514, 54), partial.subarray(0, 9)]));
    assert.deepEqual(await meter.totals("1", signal), { inBytes: 1574, outBytes: 3082 });
    appendFileSync(meter.file("1", "out"), partial.subarray(9));
    assert.deepEqual(await meter.totals("1", signal), { inBytes: 1574, outBytes: 4082 });
  });

  it("goes on from its saved totals in a new meter (a restarted control plane), counting no record twice", async () => {
    const meter = vm("2");
    appendFileSync(meter.file("2", "out"), records(1000, 1000));
    assert.deepEqual(await meter.totals("2", signal), { inBytes: 0, outBytes: 2000 });
    appendFileSync(meter.file("2", "out"), records(500));
    const restarted = new TrafficMeter(vms);
    assert.deepEqual(await restarted.totals("2", signal), { inBytes: 0, outBytes: 2500 });
    assert.deepEqual(await restarted.totals("2", signal), { inBytes: 0, outBytes: 2500 });
  });

  it("keeps the totals over a VM restart: the last run's records are counted, and the new files add to them", async () => {
    const meter = vm("4");
    appendFileSync(meter.file("4", "in"), records(700));
    appendFileSync(meter.file("4", "out"), records(300));
    await meter.restart("4", signal);
    assert.deepEqual(await meter.totals("4", signal), { inBytes: 700, outBytes: 300 });
    // QEMU starts again and makes new files.
    writeFileSync(meter.file("4", "in"), Buffer.concat([pcapHeader(), records(50)]));
    writeFileSync(meter.file("4", "out"), pcapHeader());
    assert.deepEqual(await meter.totals("4", signal), { inBytes: 750, outBytes: 300 });
  });

  it("reads a file shorter than where it got (QEMU started it again) from its start, keeping the totals", async () => {
    const meter = vm("5");
    appendFileSync(meter.file("5", "out"), records(100, 100, 100));
    assert.deepEqual(await meter.totals("5", signal), { inBytes: 0, outBytes: 300 });
    writeFileSync(meter.file("5", "out"), Buffer.concat([pcapHeader(), records(40)]));
    assert.deepEqual(await meter.totals("5", signal), { inBytes: 0, outBytes: 340 });
  });

  it("gives the read part of a long file back to the disk, and goes on counting after it", async () => {
    const meter = vm("6");
    const count = Math.ceil(PUNCH_EVERY / 17) + 1;
    appendFileSync(meter.file("6", "out"), frames(count, 1500));
    const before = statSync(meter.file("6", "out"));
    assert.deepEqual(await meter.totals("6", signal), { inBytes: 0, outBytes: count * 1500 });
    const punched = statSync(meter.file("6", "out"));
    assert.equal(punched.size, before.size, "the file keeps its size: QEMU writes on at its end");
    assert.ok(punched.blocks * 512 < 1 << 20, `${punched.blocks * 512} bytes still on the disk`);
    appendFileSync(meter.file("6", "out"), records(1500));
    assert.deepEqual(await meter.totals("6", signal), { inBytes: 0, outBytes: (count + 1) * 1500 });
  });
});
