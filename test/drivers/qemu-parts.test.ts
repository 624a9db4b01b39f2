import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pino } from "pino";
import { bootProbe, chooseAccel, probeBootSector } from "../../src/drivers/qemu/accel-probe.ts";
import { diskNodeOf, jobFraction } from "../../src/drivers/qemu/backup-job.ts";
import { renderSeed } from "../../src/drivers/qemu/cloud-init-seed.ts";
import { freezeGuest } from "../../src/drivers/qemu/guest-freezer.ts";
import { macFor, qemuArgs } from "../../src/drivers/qemu/qemu-cmdline.ts";
import { qemuTestDriver } from "../support/qemu-test-driver.ts";
import { qemuAvailable } from "../support/qemu-test-image.ts";

const spec = {
  id: "12345",
  hostname: "web02.example.com",
  vcpus: 2,
  memoryMb: 4096,
  storageGb: 80,
  image: "vps-test.qcow2",
  sshPublicKey:
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop: work",
  ipv4: "203.0.113.10",
  ipv6: "2001:db8:1::a",
};

describe("the NoCloud seed", () => {
  it("names the instance and host, and installs the key without its free-text comment", () => {
    const seed = renderSeed(spec, "52:54:00:00:30:39", { mode: "dhcp" });
    assert.equal(seed["meta-data"], "instance-id: vps-12345\nlocal-hostname: web02.example.com\n");
    assert.match(seed["user-data"], /^#cloud-config\n/);
    assert.match(seed["user-data"], /\nhostname: web02\.example\.com\n/);
    assert.match(
      seed["user-data"],
      /\nssh_authorized_keys:\n {2}- ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n/,
    );
  });

  it("asks for DHCP on user-mode networks, matched by the VM's MAC", () => {
    const { "network-config": config } = renderSeed(spec, "52:54:00:00:30:39", { mode: "dhcp" });
    assert.equal(
      config,
      "version: 2\nethernets:\n  eth0:\n    match:\n      macaddress: 52:54:00:00:30:39\n    set-name: eth0\n    dhcp4: true\n",
    );
  });

  it("configures the server's own addresses on bridged networks", () => {
    const { "network-config": config } = renderSeed(spec, "52:54:00:00:30:39", {
      mode: "static",
      ipv4Prefix: 24,
      ipv4Gateway: "203.0.113.1",
      ipv6Prefix: 64,
      ipv6Gateway: "2001:db8:1::1",
      nameservers: ["192.0.2.53"],
    });
    assert.match(config, /\n {4}addresses:\n {6}- 203\.0\.113\.10\/24\n {6}- 2001:db8:1::a\/64\n/);
    assert.match(config, /\n {4}gateway4: 203\.0\.113\.1\n {4}gateway6: 2001:db8:1::1\n/);
    assert.match(config, /\n {4}nameservers:\n {6}addresses:\n {8}- 192\.0\.2\.53\n$/);
  });

  it("leaves the key list out when the server has no key", () => {
    assert.doesNotMatch(
      renderSeed({ ...spec, sshPublicKey: null }, "52:54:00:00:30:39", { mode: "dhcp" })["user-data"],
      /ssh_authorized_keys/,
    );
  });
});

describe("the QEMU command line", () => {
  it("daemonises the VM with a QMP socket, a pidfile, a serial port on a socket logged to a file, and the plan's size", () => {
    const args = qemuArgs({
      id: "12345",
      accel: "tcg",
      vcpus: 2,
      memoryMb: 4096,
      disk: "/vms/12345/disk.qcow2",
      seed: "/vms/12345/seed.iso",
      mac: macFor("12345"),
      network: {
        mode: "user",
        hostfwdAddress: "127.0.0.1",
        sshPort: 40022,
        meter: [
          { file: "/vms/12345/net-in.pcap", queue: "tx" },
          { file: "/vms/12345/net-out.pcap", queue: "rx" },
        ],
      },
      qmpSocket: "/vms/12345/qmp.sock",
      qgaSocket: "/vms/12345/qga.sock",
      pidFile: "/vms/12345/qemu.pid",
      serialSocket: "/vms/12345/serial.sock",
      consoleLog: "/vms/12345/console.log",
    });
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(after("-accel"), "tcg");
    assert.equal(after("-smp"), "2");
    assert.equal(after("-m"), "4096");
    assert.equal(after("-qmp"), "unix:/vms/12345/qmp.sock,server=on,wait=off");
    assert.equal(after("-pidfile"), "/vms/12345/qemu.pid");
    assert.equal(after("-netdev"), "user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22");
    // The traffic meter's filters: what the netdev sends the guest (its incoming) and what it gets from it.
    assert.ok(
      args.includes("filter-dump,id=meter-tx,netdev=net0,queue=tx,file=/vms/12345/net-in.pcap,maxlen=1"),
    );
    assert.ok(
      args.includes("filter-dump,id=meter-rx,netdev=net0,queue=rx,file=/vms/12345/net-out.pcap,maxlen=1"),
    );
    assert.ok(args.includes("-daemonize"));
    assert.ok(!args.includes("-cpu"), "TCG keeps QEMU's default CPU model");
    // The guest agent's channel, and the main disk named for block jobs; the seed stays unnamed.
    assert.ok(args.includes("socket,id=qga0,path=/vms/12345/qga.sock,server=on,wait=off"));
    assert.ok(args.includes("virtio-serial-pci"));
    assert.ok(args.includes("virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"));
    assert.equal(after("-drive"), "file=/vms/12345/disk.qcow2,if=virtio,format=qcow2,discard=unmap,id=disk0");
    // The serial port is a socket a console connects to, and still logged to console.log.
    assert.equal(after("-serial"), "chardev:serial0");
    assert.ok(
      args.includes(
        "socket,id=serial0,path=/vms/12345/serial.sock,server=on,wait=off,logfile=/vms/12345/console.log,logappend=on",
      ),
    );
  });

  it("uses the host's CPU under KVM and a tap device when bridged", () => {
    const args = qemuArgs({
      id: "7",
      accel: "kvm",
      vcpus: 1,
      memoryMb: 512,
      disk: "d",
      seed: "s",
      mac: macFor("7"),
      network: { mode: "bridge", tap: "vps7" },
      qmpSocket: "q",
      qgaSocket: "g",
      pidFile: "p",
      serialSocket: "t",
      consoleLog: "c",
    });
    assert.equal(args[args.indexOf("-cpu") + 1], "host");
    assert.equal(args[args.indexOf("-netdev") + 1], "tap,id=net0,ifname=vps7,script=no,downscript=no");
  });

  it("gives each server its own stable MAC in QEMU's range", () => {
    assert.equal(macFor("12345"), "52:54:00:00:30:39");
    assert.equal(macFor("12345"), macFor("12345"));
    assert.notEqual(macFor("12345"), macFor("12346"));
  });
});

describe("the accelerator probe", { skip: qemuAvailable() }, () => {
  it("boots its probe guest under TCG and sees it finish", async () => {
    const outcome = await bootProbe("qemu-system-x86_64", "tcg", 30_000);
    assert.equal(outcome.works, true, outcome.detail);
  });

  it("declares an accelerator that does not finish the probe in time as not working", async () => {
    const hangs = probeBootSector();
    hangs[0] = 0xeb; // jmp $: spin forever, as a guest under a broken accelerator appears to
    hangs[1] = 0xfe;
    const outcome = await bootProbe("qemu-system-x86_64", "tcg", 1500, hangs);
    assert.equal(outcome.works, false);
    assert.match(outcome.detail, /did not finish within 1500 ms/);
  });

  it("chooses KVM only when a guest really runs under it, and obeys VPS_QEMU_ACCEL", async () => {
    const probed = await chooseAccel("qemu-system-x86_64", undefined);
    assert.ok(["kvm", "tcg"].includes(probed.accel), probed.detail);
    if (probed.accel === "tcg") assert.match(probed.detail, /using tcg/);
    assert.deepEqual(await chooseAccel("qemu-system-x86_64", "tcg"), {
      accel: "tcg",
      detail: "tcg: set by VPS_QEMU_ACCEL",
    });
  });
});

describe("the qemu host's inventory", () => {
  it("is this machine's vCPUs and memory, the disk under the VM directory, and the image files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vps-qemu-inventory-"));
    try {
      const imageDir = join(dir, "images");
      mkdirSync(join(imageDir, "not-an-image"), { recursive: true });
      for (const name of ["debian-12.qcow2", "ubuntu-22.04.qcow2", ".partial"]) {
        writeFileSync(join(imageDir, name), "");
      }
      // Not made yet: the disk is measured at its nearest existing parent.
      const driver = qemuTestDriver(join(dir, "vms", "not-yet"), { imageDir });
      const inventory = await driver.inventory({
        signal: AbortSignal.timeout(10_000),
        log: pino({ level: "silent" }),
      });
      assert.equal(inventory.vcpus, availableParallelism());
      assert.equal(inventory.memoryMb, Math.floor(totalmem() / 2 ** 20));
      assert.ok(Number.isSafeInteger(inventory.diskGb) && inventory.diskGb > 0);
      assert.deepEqual(inventory.images, ["debian-12.qcow2", "ubuntu-22.04.qcow2"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a running VM's disk in QEMU's block layer", () => {
  // As QEMU 7.2 answers query-block for a -drive without an id, beside the seed's drive.
  const blocks = [
    {
      device: "virtio0",
      inserted: {
        file: "/vms/7/disk.qcow2",
        "node-name": "#block153",
        image: {
          "virtual-size": 2147483648,
          "backing-filename": "vps-test.qcow2",
          "full-backing-filename": "/images/vps-test.qcow2",
        },
      },
    },
    { device: "virtio1", inserted: { file: "/vms/7/seed.iso", "node-name": "#block317", image: {} } },
    { device: "ide1-cd0" },
  ];

  it("is found by its file, with its size and the full path of its base image", () => {
    assert.deepEqual(diskNodeOf(blocks, "/vms/7/disk.qcow2"), {
      node: "#block153",
      virtualSize: 2147483648,
      backing: "/images/vps-test.qcow2",
    });
    assert.equal(diskNodeOf(blocks, "/vms/8/disk.qcow2"), null);
    assert.equal(diskNodeOf(undefined, "/vms/7/disk.qcow2"), null);
  });

  it("reports a copy job's progress as offset over length, a job of nothing being done", () => {
    assert.equal(jobFraction({ offset: 0, len: 4096 }), 0);
    assert.equal(jobFraction({ offset: 1024, len: 4096 }), 0.25);
    assert.equal(jobFraction({ offset: 0, len: 0 }), 1);
  });
});

describe("freezing a guest for a disk copy", () => {
  const log = pino({ level: "silent" });
  const recording = (freeze: () => Promise<number>) => {
    const calls: string[] = [];
    return {
      calls,
      freezer: {
        freeze: () => {
          calls.push("freeze");
          return freeze();
        },
        thaw: async () => {
          calls.push("thaw");
        },
      },
    };
  };

  it("counts the filesystems the guest froze, and thaws them", async () => {
    const { calls, freezer } = recording(async () => 2);
    const frozen = await freezeGuest(freezer, "7", 1000, log);
    assert.equal(frozen.filesystems, 2);
    await frozen.thaw();
    assert.deepEqual(calls, ["freeze", "thaw"]);
  });

  it("goes on unfrozen when the guest's freeze hangs or fails, and still thaws it", async () => {
    for (const freeze of [() => new Promise<number>(() => {}), () => Promise.reject(new Error("no agent"))]) {
      const { calls, freezer } = recording(freeze);
      const frozen = await freezeGuest(freezer, "7", 50, log);
      assert.equal(frozen.filesystems, 0);
      await frozen.thaw();
      assert.deepEqual(calls, ["freeze", "thaw"]);
    }
  });

  it("freezes nothing without a freezer", async () => {
    assert.equal((await freezeGuest(undefined, "7", 50, log)).filesystems, 0);
  });
});
