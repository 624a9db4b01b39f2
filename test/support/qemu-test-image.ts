import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

// VPS_TEST_IMAGE_DIR points the tests at an image built elsewhere (scripts/build-test-image.sh <dir>).
const IMAGE_DIR = process.env.VPS_TEST_IMAGE_DIR || join(import.meta.dirname, "..", "..", "data", "images");

/**
 * Where the test VM image is (built by scripts/build-test-image.sh), or why tests that boot it are skipped.
 * With VPS_REQUIRE_QEMU=1 (as in CI) a missing image is an error, not a skip.
 */
export function qemuTestImage(): { dir: string; skip: string | false } {
  if (existsSync(join(IMAGE_DIR, "vps-test.qcow2"))) return { dir: IMAGE_DIR, skip: false };
  const reason = "the test VM image is missing: run scripts/build-test-image.sh";
  if (process.env.VPS_REQUIRE_QEMU === "1") throw new Error(reason);
  return { dir: IMAGE_DIR, skip: reason };
}

/**
 * Whether QEMU can run here, or why tests that boot even a probe guest are skipped. With VPS_REQUIRE_QEMU=1
 * (as in CI) a missing QEMU is an error, not a skip.
 */
export function qemuAvailable(): string | false {
  try {
    execFileSync("qemu-system-x86_64", ["--version"], { stdio: "ignore" });
    return false;
  } catch {
    const reason = "qemu-system-x86_64 is not installed: run scripts/install-test-packages.sh";
    if (process.env.VPS_REQUIRE_QEMU === "1") throw new Error(reason);
    return reason;
  }
}
