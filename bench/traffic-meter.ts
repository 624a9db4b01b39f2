// What counting a user-mode VM's traffic costs (qemu driver, test image, traffic-meter.ts): one VM, its SSH port
// forward carrying BENCH_TRAFFIC_MB MB out of the guest (`head -c … /dev/zero`) and into it (`cat > /dev/null`),
// with the meter's two filter-dump objects on and off in turns (QMP qom-set of their `status`, the same VM in the
// same run, the order swapped each round). Per direction and state, the medians of BENCH_RUNS runs of:
//   - MB/s through the forward, as the client sees it;
//   - QEMU's CPU time per MB moved (its /proc/<pid>/stat), which the meter's writes add to;
// and the meter's own side: pcap bytes written per MB moved, how long `stats` takes to read a run's records, and
// what QEMU's part costs alone, measured apart from the VM's noise: 200,000 appends of a 17-byte record to a file
// on the same disk (one write each, as filter-dump's writev), times the records per MB moved.
//
//   npm run bench:traffic              (needs QEMU and data/images/vps-test.qcow2: scripts/build-test-image.sh)
//   BENCH_RUNS=7 BENCH_TRAFFIC_MB=64 npm run bench:traffic
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { QmpClient } from "../src/drivers/qemu/qmp-client.ts";
import { processUsage } from "../src/drivers/qemu/vm-process.ts";
import { bootToSsh, qemuTestDriver, testImageSpec } from "../test/support/qemu-test-driver.ts";
import { qemuTestImage } from "../test/support/qemu-test-image.ts";
import { makeKeyPair, sshTransfer } from "../test/support/ssh.ts";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const megabytes = Number(process.env.BENCH_TRAFFIC_MB ?? 32);
const accel = (process.env.VPS_QEMU_ACCEL ?? "tcg") as "kvm" | "tcg";
const image = qemuTestImage();
if (image.skip) throw new Error(image.skip);
const dir = mkdtempSync(join(tmpdir(), "vps-bench-traffic-"));
const key = await makeKeyPair();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const call = () => ({ signal: AbortSignal.timeout(600_000), log: pino({ level: "silent" }) });
const vmDir = join(dir, "vms");
const driver = qemuTestDriver(vmDir, { accel });
const id = "91002";
const bytes = megabytes * 1e6;

type State = "on" | "off";
type Direction = "out" | "in";
interface Figures {
  rate: number[];
  cpuMsPerMb: number[];
}
const figures: Record<Direction, Record<State, Figures>> = {
  out: { on: { rate: [], cpuMsPerMb: [] }, off: { rate: [], cpuMsPerMb: [] } },
  in: { on: { rate: [], cpuMsPerMb: [] }, off: { rate: [], cpuMsPerMb: [] } },
};
const pcapBytesPerMb: number[] = [];
const readMs: number[] = [];

try {
  await driver.create(
    testImageSpec(id, { hostname: "bench.example.com", sshPublicKey: key.publicKey }),
    call(),
  );
  const endpoint = await bootToSsh(driver, id, key, call());
  const pid = Number(readFileSync(join(vmDir, id, "qemu.pid"), "utf8"));
  const meter = async (state: State) => {
    const qmp = await QmpClient.connect(join(vmDir, id, "qmp.sock"));
    try {
      for (const queue of ["tx", "rx"]) {
        await qmp.execute("qom-set", { path: `/objects/meter-${queue}`, property: "status", value: state });
      }
    } finally {
      qmp.close();
    }
  };
  const pcapSize = () =>
    ["net-in.pcap", "net-out.pcap"].reduce((sum, f) => sum + statSync(join(vmDir, id, f)).size, 0);
  const input = Buffer.alloc(bytes);
  const transfer = (direction: Direction) =>
    direction === "out"
      ? sshTransfer(endpoint.host, endpoint.port, key, `head -c ${bytes} /dev/zero`, undefined, 600_000)
      : sshTransfer(endpoint.host, endpoint.port, key, "cat > /dev/null", input, 600_000);
  // One transfer each way first, not measured: the guest's caches and SSH's first connection.
  await transfer("out");
  await transfer("in");
  for (let n = 0; n < runs; n++) {
    const order: State[] = n % 2 === 0 ? ["on", "off"] : ["off", "on"];
    for (const state of order) {
      await meter(state);
      for (const direction of ["out", "in"] as const) {
        const pcapBefore = pcapSize();
        const cpuBefore = processUsage(pid).cpuTimeNs;
        const started = performance.now();
        await transfer(direction);
        const seconds = (performance.now() - started) / 1000;
        const cpuMs = (processUsage(pid).cpuTimeNs - cpuBefore) / 1e6;
        figures[direction][state].rate.push(megabytes / seconds);
        figures[direction][state].cpuMsPerMb.push(cpuMs / megabytes);
        if (state === "on") {
          pcapBytesPerMb.push((pcapSize() - pcapBefore) / megabytes);
          const readStarted = performance.now();
          await driver.stats(id, call());
          readMs.push(performance.now() - readStarted);
        }
      }
    }
  }
  await meter("on");
  const appends = 200_000;
  const file = openSync(join(dir, "append.pcap"), "w");
  const record = Buffer.alloc(17);
  const appendStarted = performance.now();
  for (let i = 0; i < appends; i++) writeSync(file, record);
  const usPerRecord = ((performance.now() - appendStarted) * 1000) / appends;
  closeSync(file);

  const round = (value: number, digits = 1) => Number(value.toFixed(digits));
  console.log(
    `${runs} runs of ${megabytes} MB each way, ${accel}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log(
    "| direction | meter | MB/s (median) | runs | QEMU CPU ms per MB (median) | ratio on/off: MB/s, CPU |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const direction of ["out", "in"] as const) {
    for (const state of ["off", "on"] as const) {
      const f = figures[direction][state];
      const off = figures[direction].off;
      const ratio =
        state === "on"
          ? `${round(median(f.rate) / median(off.rate), 3)}, ${round(median(f.cpuMsPerMb) / median(off.cpuMsPerMb), 3)}`
          : "";
      console.log(
        `| ${direction} | ${state} | ${round(median(f.rate))} | ${f.rate.map((r) => round(r)).join(", ")} | ${round(median(f.cpuMsPerMb), 2)} | ${ratio} |`,
      );
    }
  }
  const recordsPerMb = median(pcapBytesPerMb) / 17;
  const offCpu = median([...figures.out.off.cpuMsPerMb, ...figures.in.off.cpuMsPerMb]);
  console.log(
    `pcap written per MB moved: ${round(median(pcapBytesPerMb), 0)} bytes (${round(recordsPerMb, 0)} frames); stats() after a run: ${round(median(readMs), 2)} ms (median)`,
  );
  console.log(
    `one 17-byte append: ${round(usPerRecord, 2)} µs; per MB moved: ${round((usPerRecord * recordsPerMb) / 1000, 3)} ms, ${round((usPerRecord * recordsPerMb) / 1000 / offCpu, 4)} of QEMU's ${round(offCpu, 1)} CPU ms per MB unmetered`,
  );
} finally {
  await driver.destroy(id, call()).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
