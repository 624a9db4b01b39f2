import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Accel = "kvm" | "tcg";

/**
 * A boot sector (source: accel-probe.asm, assembled with `nasm -f bin`) that does what every Linux guest does
 * early on: real mode to protected mode to long mode with 1 GiB mapped by 2 MiB pages, then fills 64 MiB of
 * memory, then writes 0x31 to port 0xf4, where QEMU's isa-debug-exit device turns it into the process's exit
 * status (0x31 << 1 | 1 = 99). A working accelerator runs it in well under a second; a host whose /dev/kvm
 * exists but traps every page (guests "hang" there) takes many seconds.
 */
const PROBE_CODE =
  "+jHAjtiO0LwAfOSSDALmkg8BFuB8DyDAZoPIAQ8iwOokfAgAZrgQAI7YjsCO0L8AEAAAMcC5AAwAAPOrxwUAEAAAAyAAAMcFACAA" +
  "AAMwAAC/ADAAALiDAAAAuQACAACJBwUAACAAg8cI4vS4ABAAAA8i2A8g4IPIIA8i4LmAAADADzINAAEAAA8wDyDADQAAAIAPIsDq" +
  "nHwAABgAvwAAAAG5AACAAEi4WlpaWlpaWlrzSKuwMeb09Ov9kJCQkJCQAAAAAAAAAAD//wAAAJrPAP//AAAAks8A//8AAACarwAfAMB8";

export function probeBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from(PROBE_CODE, "base64").copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export const PROBE_EXIT_STATUS = 99;

export interface ProbeOutcome {
  works: boolean;
  detail: string;
}

/**
 * Boots the probe sector under `accel` and reports whether the guest really ran: the presence of /dev/kvm
 * proves nothing (on some hosts the device exists and guests hang), so only a guest that finishes counts.
 */
export function bootProbe(
  qemu: string,
  accel: Accel,
  timeoutMs: number,
  sector = probeBootSector(),
): Promise<ProbeOutcome> {
  const dir = mkdtempSync(join(tmpdir(), "vps-accel-"));
  const image = join(dir, "probe.img");
  writeFileSync(image, sector);
  const args = [
    "-accel",
    accel,
    "-machine",
    "pc",
    "-m",
    "128",
    "-display",
    "none",
    "-serial",
    "none",
    "-monitor",
    "none",
    "-no-reboot",
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
    "-drive",
    `file=${image},format=raw,if=ide`,
  ];
  return new Promise((resolve) => {
    execFile(qemu, args, { timeout: timeoutMs, killSignal: "SIGKILL" }, (error, _stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      const code: unknown = error ? (error as { code?: unknown }).code : 0;
      if (code === PROBE_EXIT_STATUS) {
        resolve({ works: true, detail: `${accel}: a probe guest booted and exited` });
      } else if (error && (error as { killed?: boolean }).killed) {
        resolve({ works: false, detail: `${accel}: the probe guest did not finish within ${timeoutMs} ms` });
      } else {
        const reason = stderr.trim().split("\n")[0] ?? "";
        resolve({
          works: false,
          detail: `${accel}: the probe failed (${code}${reason ? `: ${reason}` : ""})`,
        });
      }
    });
  });
}

/**
 * KVM where a guest really runs under it, TCG otherwise; `forced` (VPS_QEMU_ACCEL) skips the probe. KVM must
 * finish the probe, and faster than TCG did: a KVM that only emulates is slower than TCG itself.
 */
export async function chooseAccel(
  qemu: string,
  forced: Accel | undefined,
  timeoutMs = 5000,
): Promise<{ accel: Accel; detail: string }> {
  if (forced) return { accel: forced, detail: `${forced}: set by VPS_QEMU_ACCEL` };
  const tcgStarted = Date.now();
  const tcg = await bootProbe(qemu, "tcg", 30_000);
  const tcgMs = Date.now() - tcgStarted;
  if (!tcg.works) throw new Error(`QEMU cannot boot even a probe guest: ${tcg.detail}`);
  const kvm = await bootProbe(qemu, "kvm", Math.min(timeoutMs, Math.max(1000, tcgMs * 2)));
  return kvm.works
    ? { accel: "kvm", detail: kvm.detail }
    : { accel: "tcg", detail: `${kvm.detail}; tcg ran it in ${tcgMs} ms; using tcg` };
}
