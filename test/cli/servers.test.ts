import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { buildCli, ok, type VpsShell, vpsShell } from "../support/vps-cli.ts";

const CREATE = ["--plan", "Standard VPS", "--os", "5", "--location", "us-west"];

describe("vps server, image and action", () => {
  let t: TestApp;
  before(async () => {
    buildCli();
    t = await startTestApp();
  });
  after(() => t.close());

  async function customer(credit = "50.00"): Promise<VpsShell> {
    const account = await t.newAccount(credit);
    const token = (account as unknown as { token: string }).token;
    return vpsShell({ VPS_URL: t.url, VPS_TOKEN: token });
  }

  it("creates a server, waits until it is active and prints it in each of the three formats", async () => {
    const shell = await customer();
    const created = await shell.vps(["server", "create", "--name", "web-1", ...CREATE, "-o", "json"]);
    ok(created);
    const server = JSON.parse(created.stdout);
    assert.equal(server.name, "web-1");
    assert.equal(server.status, "active", "waited for the create");

    const table = await shell.vps(["server", "list"]);
    ok(table);
    const [header, row] = table.stdout.trimEnd().split("\n");
    assert.match(header ?? "", /^ID\s+NAME\s+STATUS\s+IP_ADDRESS\s+LOCATION\s+PLAN.NAME\s+OS.NAME$/);
    assert.match(
      row ?? "",
      new RegExp(`^${server.id}\\s+web-1\\s+active\\s+\\S+\\s+us-west\\s+Standard VPS`),
    );
    assert.ok(!table.stdout.includes("\u001b["), "no colour when stdout is not a terminal");

    const json = JSON.parse((await shell.vps(["server", "list", "-o", "json"])).stdout);
    assert.deepEqual(
      json.map((s: { id: number }) => s.id),
      [server.id],
    );
    const yaml = parse((await shell.vps(["server", "describe", "web-1", "-o", "yaml"])).stdout);
    assert.equal(yaml.id, server.id);
    assert.equal(yaml.plan.name, "Standard VPS");
    const columns = await shell.vps([
      "server",
      "describe",
      String(server.id),
      "--columns",
      "name,status,plan.vcpus",
    ]);
    assert.deepEqual(
      columns.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split(/\s{3,}/)),
      [
        ["NAME", "STATUS", "PLAN.VCPUS"],
        ["web-1", "active", String(server.plan.vcpus)],
      ],
    );
  });

  it("with --no-wait prints the action's id at once, and action wait and describe follow it", async () => {
    const shell = await customer();
    const started = await shell.vps(["server", "create", "--name", "quick", ...CREATE, "--no-wait"]);
    ok(started);
    const actionId = started.stdout.trim();
    assert.match(actionId, /^\d+$/);
    const waited = await shell.vps(["action", "wait", actionId, "-o", "json"]);
    ok(waited);
    assert.deepEqual(
      [JSON.parse(waited.stdout).command, JSON.parse(waited.stdout).status],
      ["create", "success"],
    );
    const described = JSON.parse((await shell.vps(["action", "describe", actionId, "-o", "json"])).stdout);
    assert.equal(described.id, Number(actionId));
    const listed = JSON.parse((await shell.vps(["action", "list", "quick", "-o", "json"])).stdout);
    assert.deepEqual(
      listed.map((a: { id: number }) => a.id),
      [Number(actionId)],
    );
  });

  it("stops, starts, reboots, resizes, rebuilds, backs up, snapshots, updates and deletes a server by its name", async () => {
    const shell = await customer("500.00");
    ok(await shell.vps(["server", "create", "--name", "box", ...CREATE, "--backups"]));
    const status = async () =>
      JSON.parse((await shell.vps(["server", "describe", "box", "-o", "json"])).stdout);

    const stopped = await shell.vps(["server", "stop", "box", "-o", "json"]);
    ok(stopped);
    assert.deepEqual(
      [JSON.parse(stopped.stdout).command, JSON.parse(stopped.stdout).status],
      ["stop", "success"],
    );
    assert.equal((await status()).status, "stopped");
    ok(await shell.vps(["server", "resize", "box", "--plan", "2"]));
    assert.equal((await status()).plan.id, 2);
    ok(await shell.vps(["server", "start", "box"]));
    assert.equal((await status()).status, "active");
    ok(await shell.vps(["server", "reboot", "box"]));
    ok(await shell.vps(["server", "rebuild", "box", "--os", "Debian 12"]));
    assert.equal((await status()).os.id, 3);
    ok(await shell.vps(["server", "backup", "box"]));

    const snapshot = await shell.vps(["server", "snapshot", "box", "--name", "before", "-o", "json"]);
    ok(snapshot);
    const image = JSON.parse(snapshot.stdout);
    assert.deepEqual([image.name, image.type, image.status], ["before", "snapshot", "available"]);
    const images = JSON.parse((await shell.vps(["image", "list", "--server", "box", "-o", "json"])).stdout);
    assert.deepEqual(images.map((i: { type: string }) => i.type).toSorted(), ["backup", "snapshot"]);
    assert.equal(
      JSON.parse((await shell.vps(["image", "describe", "before", "-o", "json"])).stdout).id,
      image.id,
    );
    ok(await shell.vps(["image", "delete", "before"]));
    assert.equal((await shell.vps(["image", "describe", String(image.id)])).code, 1);

    const updated = await shell.vps([
      "server",
      "update",
      "box",
      "--name",
      "box-2",
      "--no-backups",
      "-o",
      "json",
    ]);
    ok(updated);
    assert.deepEqual(
      [JSON.parse(updated.stdout).name, JSON.parse(updated.stdout).backups_enabled],
      ["box-2", false],
    );
    ok(await shell.vps(["server", "delete", "box-2"]));
    const gone = await shell.vps(["server", "describe", "box-2"]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'error: server "box-2" not found (not_found)\n');
  });

  it("exits 1 with the API's message and code on a 404, a 402 and a 400", async () => {
    const shell = await customer();
    const missing = await shell.vps(["server", "describe", "999999"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .+ \(not_found\)\n$/);
    assert.equal(missing.stdout, "");

    const poor = await customer("0.00");
    const refused = await poor.vps(["server", "create", "--name", "x", ...CREATE]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .+ \(insufficient_credit\)\n$/);

    ok(await shell.vps(["server", "create", "--name", "on", ...CREATE]));
    const twice = await shell.vps(["server", "start", "on"]);
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, "error: Server is already running. (server_already_running)\n");
  });

  it("exits non-zero with the action's error when the action it waited for failed", async () => {
    const shell = await customer();
    ok(await shell.vps(["server", "create", "--name", "doomed", ...CREATE]));
    t.driver.faults.inject("reboot", { permanent: true });
    try {
      const failed = await shell.vps(["server", "reboot", "doomed"]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /^error: action \d+ \(reboot\) failed: .+ \(\w+\)\n$/);
    } finally {
      t.driver.faults.clear();
    }
  });

  it("runs ssh to the server's SSH endpoint with the arguments after --, and exits with ssh's status", async () => {
    const shell = await customer();
    const server = JSON.parse(
      (await shell.vps(["server", "create", "--name", "ssh-me", ...CREATE, "-o", "json"])).stdout,
    );
    // The one stand-in: no sshd runs in the sim, so `ssh` is a script that prints its arguments.
    const bin = mkdtempSync(join(tmpdir(), "fake-ssh-"));
    writeFileSync(join(bin, "ssh"), '#!/bin/sh\nprintf "%s\\n" "$@"\nexit 7\n');
    chmodSync(join(bin, "ssh"), 0o755);
    const run = await shell.vps(["server", "ssh", "ssh-me", "--", "-i", "key", "uptime"], {
      env: { PATH: `${bin}:${shell.env.PATH}` },
    });
    assert.equal(run.code, 7);
    assert.deepEqual(run.stdout.trimEnd().split("\n"), [
      "-p",
      String(server.ssh.port),
      `root@${server.ssh.host}`,
      "-i",
      "key",
      "uptime",
    ]);
  });
});
