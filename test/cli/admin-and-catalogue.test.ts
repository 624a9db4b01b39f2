import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { ADMIN_TOKEN, OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { buildCli, CLI_DIST, ok, vpsShell } from "../support/vps-cli.ts";

/** An OpenSSH ed25519 public key line. */
function publicKey(): string {
  const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" });
  const field = (b: Buffer) => Buffer.concat([Buffer.alloc(4, 0), b]).fill(b.length, 3, 4);
  const blob = Buffer.concat([field(Buffer.from("ssh-ed25519")), field(der.subarray(-32))]);
  return `ssh-ed25519 ${blob.toString("base64")} test@cli`;
}

describe("vps admin, catalogue, ssh-key, account, completion and help", () => {
  let t: TestApp;
  before(async () => {
    buildCli();
    t = await startTestApp();
  });
  after(() => t.close());

  it("runs the operator's commands with the context's admin token", async () => {
    const shell = vpsShell();
    ok(
      await shell.vps(["context", "create", "op", "--url", t.url, "--admin-token-stdin"], {
        input: ADMIN_TOKEN,
      }),
    );
    const created = await shell.vps([
      "admin",
      "account",
      "create",
      "--email",
      "ann@example.com",
      "-o",
      "json",
    ]);
    ok(created);
    const account = JSON.parse(created.stdout);
    assert.equal(account.balance, "0.00");
    const credited = await shell.vps([
      "admin",
      "account",
      "credit",
      "ann@example.com",
      "12.50",
      "-o",
      "json",
    ]);
    ok(credited);
    assert.equal(JSON.parse(credited.stdout).balance, "12.50");
    const listed = JSON.parse((await shell.vps(["admin", "accounts", "list", "-o", "json"])).stdout);
    assert.ok(listed.some((a: { id: number }) => a.id === account.id));
    assert.equal(
      JSON.parse((await shell.vps(["admin", "account", "describe", String(account.id), "-o", "json"])).stdout)
        .email,
      "ann@example.com",
    );
    const again = await shell.vps(["admin", "account", "create", "--email", "ann@example.com"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: .+ \(account_exists\)\n$/);

    ok(await shell.vps(["admin", "location", "create", "fra", "--name", "Frankfurt", "--country", "DE"]));
    const pool = await shell.vps(["admin", "pool", "add", "fra", "198.18.0.0/28", "-o", "json"]);
    ok(pool);
    assert.deepEqual(JSON.parse(pool.stdout), { family: 4, added: 14 });
    const overlap = await shell.vps(["admin", "pool", "add", "fra", "198.18.0.0/29"]);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /\(address_range_overlaps\)\n/);
    ok(
      await shell.vps(
        [
          "admin",
          "plan",
          "create",
          "--name",
          "tiny",
          "--vcpus",
          "1",
          "--memory",
          "512",
          "--storage",
          "10",
        ].concat([
          "--bandwidth",
          "100",
          "--price-hourly",
          "0.01",
          "--price-monthly",
          "3.00",
          "--locations",
          "fra",
        ]),
      ),
    );
    ok(
      await shell.vps(
        ["admin", "os", "create", "--name", "Alpine 3", "--distribution", "alpine", "--version", "3"].concat([
          "--image",
          "alpine-3.qcow2",
        ]),
      ),
    );

    const host = await shell.vps(["admin", "host", "create", "hv1", "--location", "fra", "-o", "json"]);
    ok(host);
    assert.ok(JSON.parse(host.stdout).join_token);
    ok(await shell.vps(["admin", "host", "update", "hv1", "--ratio-vcpus", "4", "--ratio-disk-gb", "1.5"]));
    const described = JSON.parse(
      (await shell.vps(["admin", "host", "describe", "hv1", "-o", "json"])).stdout,
    );
    assert.deepEqual([described.allocation_ratios.vcpus, described.allocation_ratios.disk_gb], [4, 1.5]);
    for (const [verb, state] of [
      ["disable", "disabled"],
      ["drain", "draining"],
      ["enable", "enabled"],
    ] as const) {
      const changed = await shell.vps(["admin", "host", verb, "hv1", "-o", "json"]);
      ok(changed);
      assert.equal(JSON.parse(changed.stdout).admin_state, state);
    }
    const hosts = JSON.parse(
      (await shell.vps(["admin", "host", "list", "--location", "fra", "-o", "json"])).stdout,
    );
    // The embedded sim host of a new location (sim-fra) joins it when the embedded hosts notice the location,
    // which may be before or after this list.
    assert.deepEqual(
      hosts.map((h: { name: string }) => h.name).filter((name: string) => name !== "sim-fra"),
      ["hv1"],
    );
    ok(await shell.vps(["admin", "host", "join-token", "hv1"]));
    ok(await shell.vps(["admin", "host", "delete", "hv1"]));
    assert.equal((await shell.vps(["admin", "host", "describe", "hv1"])).code, 1);

    const customer = await shell.vps(["server", "list"]);
    assert.equal(customer.code, 1, "a context with only an admin token has no customer token");
    assert.match(customer.stderr, /\(no_token\)/);
  });

  it("lists the catalogue, manages SSH keys and shows the account with a customer's token", async () => {
    const shell = vpsShell({ VPS_URL: t.url, VPS_TOKEN: OWNER_TOKEN });
    const plans = JSON.parse((await shell.vps(["plan", "list", "-o", "json"])).stdout);
    assert.ok(plans.some((p: { name: string }) => p.name === "Standard VPS"));
    assert.ok(
      parse((await shell.vps(["os", "list", "-o", "yaml"])).stdout).some((o: { id: number }) => o.id === 5),
    );
    assert.match((await shell.vps(["location", "list"])).stdout, /^ID\s+CODE\s+NAME\s+COUNTRY\n.*us-west/);

    const key = await shell.vps([
      "ssh-key",
      "create",
      "--name",
      "laptop",
      "--public-key",
      publicKey(),
      "-o",
      "json",
    ]);
    ok(key);
    assert.equal(JSON.parse(key.stdout).type, "ssh-ed25519");
    assert.match((await shell.vps(["ssh-key", "list"])).stdout, /laptop/);
    assert.equal(
      JSON.parse((await shell.vps(["ssh-key", "describe", "laptop", "-o", "json"])).stdout).name,
      "laptop",
    );
    ok(await shell.vps(["ssh-key", "delete", "laptop"]));
    assert.equal((await shell.vps(["ssh-key", "describe", "laptop"])).code, 1);

    assert.equal(
      JSON.parse((await shell.vps(["account", "describe", "-o", "json"])).stdout).balance,
      "100.00",
    );
    const token = JSON.parse(
      (await shell.vps(["account", "token", "create", "--name", "ci", "-o", "json"])).stdout,
    );
    assert.ok(token.api_token);
    const tokens = JSON.parse((await shell.vps(["account", "token", "list", "-o", "json"])).stdout);
    assert.ok(tokens.some((k: { id: number }) => k.id === token.id));
    ok(await shell.vps(["account", "token", "delete", String(token.id)]));
  });

  it("prints completion scripts made from the command tree that bash loads and completes with", async () => {
    const shell = vpsShell();
    const script = await shell.vps(["completion", "bash"]);
    ok(script);
    const bash = (line: string) =>
      new Promise<string>((resolve, reject) =>
        execFile("bash", ["-c", line], { env: { ...shell.env, SCRIPT: script.stdout } }, (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        ),
      );
    assert.match(
      await bash('source <(printf "%s" "$SCRIPT") && complete -p vps'),
      /complete -F _vps_completion vps/,
    );
    const complete = (words: string) =>
      bash(
        `source <(printf "%s" "$SCRIPT"); COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _vps_completion; printf "%s\\n" "\${COMPREPLY[@]}"`,
      );
    assert.deepEqual((await complete("vps ser")).trim().split("\n"), ["server"]);
    assert.deepEqual((await complete("vps -o json server re")).trim().split("\n").toSorted(), [
      "reboot",
      "rebuild",
      "resize",
    ]);
    assert.deepEqual((await complete("vps admin host dr")).trim().split("\n"), ["drain"]);
    for (const shellName of ["zsh", "fish"]) {
      const other = await shell.vps(["completion", shellName]);
      ok(other);
      assert.match(other.stdout, /rebuild/);
    }
  });

  it("gives every command --help with an example", async () => {
    const { buildProgram } = (await import(join(CLI_DIST, "program.js"))) as {
      buildProgram(version: string): import("commander").Command;
    };
    const paths: string[][] = [];
    const walk = (command: import("commander").Command, path: string[]) => {
      paths.push(path);
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(buildProgram("0.0.0"), []);
    assert.ok(paths.length > 50, `${paths.length} commands`);
    const shell = vpsShell();
    for (const path of paths) {
      const help = await shell.vps([...path, "--help"]);
      assert.equal(help.code, 0, path.join(" "));
      assert.match(help.stdout, /\nExamples?:\n {2}.*\bvps /, `vps ${path.join(" ")} --help`);
    }
  });
});
