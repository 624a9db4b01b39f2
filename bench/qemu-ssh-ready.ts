// Time from POST /api/v1/servers/ to a working SSH login on a real VM (qemu driver, test image), beside a
// baseline measured in the same run: the same VM made by the driver alone (create + start, no HTTP, no
// engine), timed to the same SSH login. The ratio is the control plane's share of the wait.
//
//   npm run bench:qemu                 (needs QEMU and data/images/vps-test.qcow2: scripts/build-test-image.sh)
//   BENCH_RUNS=5 VPS_QEMU_ACCEL=kvm npm run bench:qemu
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { client, waitForStatus } from "../test/support/client.ts";
import { bootToSsh, qemuTestDriver, testImageSpec } from "../test/support/qemu-test-driver.ts";
import { qemuTestImage } from "../test/support/qemu-test-image.ts";
import { spawnServer } from "../test/support/spawned-server.ts";
import { makeKeyPair, sshWhenReady } from "../test/support/ssh.ts";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const accel = (process.env.VPS_QEMU_ACCEL ?? "tcg") as "kvm" | "tcg";
const image = qemuTestImage();
if (image.skip) throw new Error(image.skip);
const dir = mkdtempSync(join(tmpdir(), "vps-bench-qemu-"));
const key = await makeKeyPair();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function baseline(run: number): Promise<number> {
  const driver = qemuTestDriver(join(dir, "baseline"), { accel });
  const call = { signal: AbortSignal.timeout(300_000), log: pino({ level: "silent" }) };
  const id = String(90_000 + run);
  const started = performance.now();
  await driver.create(
    testImageSpec(id, {
      hostname: "bench.example.com",
      memoryMb: 1024,
      storageGb: 25,
      sshPublicKey: key.publicKey,
    }),
    call,
  );
  await bootToSsh(driver, id, key, call);
  const elapsed = performance.now() - started;
  await driver.destroy(id, call);
  return elapsed;
}

async function throughApi(run: number): Promise<{ active: number; ssh: number }> {
  const token = "bench-owner-token-0123456789abcdef";
  const admin = "bench-admin-token-0123456789abcdef";
  const server = await spawnServer({
    DATABASE_URL: join(dir, `api-${run}.db`),
    VPS_BOOTSTRAP_TOKEN: token,
    VPS_ADMIN_TOKEN: admin,
    VPS_DRIVER: "qemu",
    VPS_QEMU_ACCEL: accel,
    VPS_QEMU_DIR: join(dir, `vms-${run}`),
    VPS_QEMU_IMAGE_DIR: image.dir,
  });
  try {
    const api = client(server.url, token);
    const os = await client(server.url, admin).post("/api/v1/admin/os/", {
      name: "VPS test image",
      distribution: "busybox",
      version: "1",
      image: "vps-test.qcow2",
    });
    const sshKey = await api.post("/api/v1/ssh-keys/", { name: "bench", public_key: key.publicKey });
    const started = performance.now();
    const created = await api.post("/api/v1/servers/", {
      name: "bench",
      plan_id: 3,
      os_id: os.body.id,
      location: "us-west",
      hostname: "bench.example.com",
      ssh_key_id: sshKey.body.id,
    });
    const detail = await waitForStatus(api, created.body.id, "active", 300_000);
    const active = performance.now() - started;
    await sshWhenReady(detail.ssh.host, detail.ssh.port, key, "true");
    const ssh = performance.now() - started;
    await api.delete(`/api/v1/servers/${created.body.id}/`);
    await new Promise((r) => setTimeout(r, 2000));
    return { active, ssh };
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
  }
}

try {
  const base: number[] = [];
  const api: { active: number; ssh: number }[] = [];
  for (let run = 0; run < runs; run++) {
    base.push(await baseline(run));
    api.push(await throughApi(run));
  }
  const b = median(base);
  const active = median(api.map((r) => r.active));
  const ssh = median(api.map((r) => r.ssh));
  console.log(`qemu POST -> SSH-ready, ${accel}, plan 3 (1 vCPU, 1 GiB), median of ${runs} runs`);
  console.log(`  baseline: driver alone, create+start -> SSH   ${seconds(b)}`);
  console.log(`  API: POST /servers/ -> status active          ${seconds(active)}`);
  console.log(
    `  API: POST /servers/ -> SSH login works        ${seconds(ssh)}   ratio to baseline ${(ssh / b).toFixed(2)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
