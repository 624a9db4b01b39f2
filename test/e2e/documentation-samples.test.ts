// Every request sample of the original documentation (test/e2e/samples/, verbatim copies) runs against the
// real service and does what the documentation says, with only these substitutions:
//   - the host `https://admin.vps.org` → the test server's `http://127.0.0.1:PORT`;
//   - the token `YOUR_API_TOKEN` → the test account's token;
//   - for a delete sample of a language other than the first (cURL), `12345` → the id of the server that
//     language's create sample made (12346, …), because only one delete of 12345 can succeed.
// PHP samples have no `<?php` opening tag and print nothing in the documentation, so the test prepends
// `<?php\n` and appends `echo json_encode($var);` for the variable the sample decodes (`$servers`,
// `$server`), which is what a user would add to look at the result.
// The samples run in the order a user would run them: list (empty) → create (one server per language; the
// first, 12345, is the one the other samples address) → detail → PUT → PATCH → stop → start → reboot →
// delete. Where a sample needs the server in a state that the previous sample did not leave it in (say a
// second start), the test gets it there through the API first.
// Set VPS_REQUIRE_ALL_SAMPLES=1 to fail, rather than skip, when an interpreter is missing.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { runInNewContext } from "node:vm";
import { eventually, type Json, waitForStatus } from "../support/client.ts";
import { OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";

const SAMPLES = join(import.meta.dirname, "samples");
const DOC_HOST = "https://admin.vps.org";
const DOC_TOKEN = "YOUR_API_TOKEN";
/** The server id the samples use; the first server of a fresh database gets it. */
const DOC_ID = 12345;
const REQUIRE_ALL = process.env.VPS_REQUIRE_ALL_SAMPLES === "1";

type Language = "cURL" | "Python" | "JavaScript" | "PHP";

interface Interpreter {
  /** The command and arguments that run a sample file, or a reason why this language cannot run here. */
  command: string[] | { missing: string };
  /** Turns what the sample printed into a value. */
  parse(stdout: string): Promise<Json>;
  /** How the sample's output shows `key: value` of the response object. */
  shows(key: string, value: Scalar): string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string[], input?: string): Promise<Run> {
  // Asynchronous on purpose: the service answers from this very process.
  return new Promise((resolve, reject) => {
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, {
      // A proxy from the environment must not intercept requests to the loopback test server.
      env: { ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    // Not spawn's `timeout` option: its timer outlives a spawn that fails (ENOENT) and holds the process.
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A child that exits without reading its input closes the pipe (EPIPE): its status and output tell the rest.
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

async function succeeds(command: string[]): Promise<boolean> {
  try {
    return (await run(command)).code === 0;
  } catch {
    return false;
  }
}

type Scalar = string | number | boolean | null;
/** A scalar as Python's print() of a dict shows it. */
function pythonShows(v: Scalar): string {
  if (typeof v === "string") return `'${v}'`;
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  return `${v}`;
}
/** A scalar as Node's console.log of an object shows it. */
const javascriptShows = (v: Scalar) => (typeof v === "string" ? `'${v}'` : `${v}`);

async function findInterpreters(): Promise<Record<Language, Interpreter>> {
  const json = {
    parse: async (stdout: string) => (stdout === "" ? undefined : JSON.parse(stdout)),
    shows: (key: string, value: Scalar) => `"${key}":${JSON.stringify(value)}`,
  };
  // Debian's python3 has `requests` (python3-requests); a pyenv python3 on PATH may not.
  let python: string | undefined;
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    if (await succeeds([candidate, "-c", "import requests"])) {
      python = candidate;
      break;
    }
  }
  const hasCurl = await succeeds(["curl", "--version"]);
  const hasPhp = await succeeds(["php", "-r", 'exit(function_exists("curl_init") ? 0 : 1);']);
  return {
    cURL: {
      command: hasCurl ? ["sh"] : { missing: "curl is not installed: apt-get install curl" },
      ...json,
    },
    Python: {
      command: python
        ? [python]
        : { missing: "no python3 can import requests: apt-get install python3 python3-requests" },
      // The sample prints a dict (or a number) with print(): read it back as the Python literal it is.
      async parse(stdout) {
        const code = "import ast, json, sys; print(json.dumps(ast.literal_eval(sys.stdin.read())))";
        const res = await run([python as string, "-c", code], stdout);
        assert.equal(res.code, 0, `not a Python literal: ${stdout}\n${res.stderr}`);
        return JSON.parse(res.stdout);
      },
      shows: (key, value) => `'${key}': ${pythonShows(value)}`,
    },
    JavaScript: {
      command: [process.execPath],
      // console.log prints an object literal; evaluate it (and copy it into this realm for deepEqual).
      parse: async (stdout) => JSON.parse(JSON.stringify(runInNewContext(`(${stdout})`))),
      shows: (key, value) => `${key}: ${javascriptShows(value)}`,
    },
    PHP: {
      command: hasPhp ? ["php"] : { missing: "php is not installed: apt-get install php-cli php-curl" },
      ...json,
    },
  };
}

interface Sample {
  title: string;
  language: Language;
  /** The file under test/e2e/samples/. */
  file: string;
  /** The server the sample should act on, when not 12345 (then `12345` is substituted too). */
  serverId?: () => number;
  /** The state the server 12345 must be in before the sample runs. */
  given?: "active" | "stopped";
  /** What the user sees: the printed value, parsed, and the raw output. */
  check(printed: Json, stdout: string, shows: Interpreter["shows"]): void | Promise<void>;
}

describe("the original documentation's request samples, run verbatim", () => {
  let service: TestApp;
  let interpreters: Record<Language, Interpreter>;
  let scratch: string;
  /** The id of the server each language's create sample made. */
  const createdBy = new Map<Language, number>();

  before(async () => {
    service = await startTestApp();
    interpreters = await findInterpreters();
    scratch = mkdtempSync(join(tmpdir(), "vps-samples-"));
  });
  after(async () => {
    await service?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Waits until 12345 is done with any transition, then starts or stops it through the API if needed. */
  async function bring(status: "active" | "stopped") {
    const current = await eventually(
      async () => {
        const s = (await service.owner.get(`/api/v1/servers/${DOC_ID}/`)).body?.status;
        return s === "active" || s === "stopped" ? s : undefined;
      },
      10_000,
      `server ${DOC_ID} to be active or stopped`,
    );
    if (current === status) return;
    const res = await service.owner.post(
      `/api/v1/servers/${DOC_ID}/${status === "active" ? "start" : "stop"}/`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await waitForStatus(service.owner, DOC_ID, status);
  }

  async function runSample(sample: Sample): Promise<{ printed: Json; stdout: string }> {
    const interpreter = interpreters[sample.language];
    const original = readFileSync(join(SAMPLES, sample.file), "utf8");
    assert.ok(original.includes(DOC_HOST) && original.includes(DOC_TOKEN), "the sample's host and token");
    let source = original;
    // The id first, on the original text: the test token and the port may contain "12345" too.
    if (sample.serverId) {
      assert.ok(source.includes(String(DOC_ID)));
      source = source.replaceAll(String(DOC_ID), String(sample.serverId()));
    }
    source = source.replaceAll(DOC_HOST, service.url).replaceAll(DOC_TOKEN, OWNER_TOKEN);
    if (sample.language === "PHP") {
      const decoded = /\$(\w+) = json_decode\(/.exec(source)?.[1];
      assert.ok(decoded, "the PHP sample decodes the response into a variable");
      source = `<?php\n${source}echo json_encode($${decoded});\n`;
    }
    const path = join(scratch, sample.file);
    writeFileSync(path, source);
    const res = await run([...(interpreter.command as string[]), path]);
    assert.equal(res.code, 0, `exit code ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return { printed: await interpreter.parse(res.stdout.trim()), stdout: res.stdout };
  }

  const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
  const STANDARD_VPS = { id: 1, name: "Standard VPS", vcpus: 2, memory: 4096, storage: 80, bandwidth: 2048 };
  const UBUNTU = { id: 5, name: "Ubuntu 22.04 LTS" };

  const list = (language: Language, file: string): Sample => ({
    title: `${language}: list all servers (none yet)`,
    language,
    file,
    check(printed, stdout, shows) {
      assert.equal(printed.count, 0);
      assert.deepEqual(printed.results, []);
      assert.ok(stdout.includes(shows("count", 0)), stdout);
    },
  });

  const create = (language: Language, file: string): Sample => ({
    title: `${language}: create a server`,
    language,
    file,
    check(printed, stdout, shows) {
      // The first server of a fresh database is the 12345 that the other samples address.
      const expectedId = createdBy.size === 0 ? DOC_ID : Math.max(...createdBy.values()) + 1;
      assert.equal(printed.id, expectedId);
      createdBy.set(language, printed.id);
      const { created_at, updated_at, action_id, ...rest } = printed;
      assert.ok(Number.isInteger(action_id), "the added action_id names the provisioning action");
      assert.deepEqual(rest, {
        id: expectedId,
        name: "web-server-02",
        hostname: "web02.example.com",
        status: "provisioning",
        ip_address: null,
        ipv6_address: null,
        location: "us-west",
        plan: STANDARD_VPS,
        os: UBUNTU,
        backups_enabled: true,
        ssh: null,
        resource_usage: { cpu_percent: 0, memory_used: 0, disk_used: 0, bandwidth_used: 0 },
        message: "Server is being provisioned. This may take 2-5 minutes.",
      });
      assert.match(created_at, TIMESTAMP);
      assert.equal(updated_at, created_at);
      for (const [key, value] of [
        ["status", "provisioning"],
        ["ip_address", null],
        ["backups_enabled", true],
        ["message", "Server is being provisioned. This may take 2-5 minutes."],
      ] as const)
        assert.ok(stdout.includes(shows(key, value)), `${shows(key, value)} in ${stdout}`);
    },
  });

  const detail = (language: Language, file: string): Sample => ({
    title: `${language}: get the server's details`,
    language,
    file,
    given: "active",
    check(printed, stdout, shows) {
      assert.equal(printed.id, DOC_ID);
      assert.equal(printed.name, "web-server-02");
      assert.equal(printed.hostname, "web02.example.com");
      assert.equal(printed.status, "active");
      assert.match(printed.ip_address, /^203\.0\.113\.\d+$/);
      assert.match(printed.ipv6_address, /^2001:db8:1::/);
      assert.equal(printed.location, "us-west");
      assert.deepEqual(printed.plan, STANDARD_VPS);
      assert.deepEqual(printed.os, UBUNTU);
      assert.equal(printed.backups_enabled, true);
      assert.deepEqual(Object.keys(printed.resource_usage), [
        "cpu_percent",
        "memory_used",
        "disk_used",
        "bandwidth_used",
      ]);
      for (const value of Object.values(printed.resource_usage)) assert.equal(typeof value, "number");
      assert.match(printed.created_at, TIMESTAMP);
      assert.match(printed.updated_at, TIMESTAMP);
      assert.equal("message" in printed, false);
      assert.ok(stdout.includes(shows("status", "active")), stdout);
      assert.ok(stdout.includes(shows("ip_address", printed.ip_address)), stdout);
    },
  });

  const put = (language: Language, file: string): Sample => ({
    title: `${language}: update the server (PUT)`,
    language,
    file,
    async check(printed, stdout, shows) {
      assert.equal(printed.id, DOC_ID);
      assert.equal(printed.name, "web-server-updated");
      assert.equal(printed.hostname, "web-updated.example.com");
      assert.equal(printed.backups_enabled, true);
      assert.equal(printed.status, "active");
      assert.deepEqual(printed.plan, STANDARD_VPS);
      assert.ok(stdout.includes(shows("name", "web-server-updated")), stdout);
      const stored = await service.owner.get(`/api/v1/servers/${DOC_ID}/`);
      assert.equal(stored.body.name, "web-server-updated");
      assert.equal(stored.body.hostname, "web-updated.example.com");
    },
  });

  const patch = (language: Language, file: string): Sample => ({
    title: `${language}: rename the server (PATCH)`,
    language,
    file,
    async check(printed, stdout, shows) {
      assert.equal(printed.id, DOC_ID);
      assert.equal(printed.name, "new-server-name");
      // Only the name changes; the PUT's hostname stays.
      assert.equal(printed.hostname, "web-updated.example.com");
      assert.equal(printed.backups_enabled, true);
      assert.equal(printed.status, "active");
      assert.ok(stdout.includes(shows("name", "new-server-name")), stdout);
      assert.equal((await service.owner.get(`/api/v1/servers/${DOC_ID}/`)).body.name, "new-server-name");
    },
  });

  const action = (
    language: Language,
    file: string,
    verb: "stop" | "start" | "reboot",
    title: string,
  ): Sample => {
    const [given, message, status] = {
      stop: ["active", "Server is stopping", "stopping"],
      start: ["stopped", "Server is starting", "starting"],
      reboot: ["active", "Server is rebooting", "rebooting"],
    }[verb] as ["active" | "stopped", string, string];
    return {
      title: `${language}: ${title}`,
      language,
      file,
      given,
      check(printed, stdout, shows) {
        assert.deepEqual(printed, {
          status: "success",
          message,
          server: { id: DOC_ID, name: "new-server-name", status },
          action_id: printed.action_id,
        });
        assert.ok(Number.isInteger(printed.action_id), "the added action_id names the action started");
        assert.ok(stdout.includes(shows("message", message)), stdout);
      },
    };
  };

  const remove = (language: Language, file: string, expectPrinted: (printed: Json, stdout: string) => void) =>
    ({
      title: `${language}: delete ${language === "cURL" ? "the server" : "the server that its create sample made"}`,
      language,
      file,
      // cURL deletes 12345 itself; the other languages delete their own server, as 12345 is gone.
      serverId:
        language === "cURL"
          ? undefined
          : () => {
              const id = createdBy.get(language);
              assert.ok(id, `${language}'s create sample made no server`);
              return id;
            },
      async check(printed, stdout) {
        expectPrinted(printed, stdout);
        const id = language === "cURL" ? DOC_ID : (createdBy.get(language) as number);
        assert.equal((await service.owner.get(`/api/v1/servers/${id}/`)).status, 404);
        const listed = await service.owner.get("/api/v1/servers/");
        assert.ok(!listed.body.results.some((s: Json) => s.id === id));
      },
    }) satisfies Sample;

  const samples: Sample[] = [
    list("cURL", "list.sh"),
    list("Python", "list.py"),
    list("JavaScript", "list.mjs"),
    list("PHP", "list.php"),
    create("cURL", "create.sh"),
    create("Python", "create.py"),
    create("JavaScript", "create.mjs"),
    create("PHP", "create.php"),
    detail("cURL", "detail.sh"),
    detail("Python", "detail.py"),
    detail("JavaScript", "detail.mjs"),
    put("cURL", "put.sh"),
    put("Python", "put.py"),
    patch("cURL", "patch.sh"),
    patch("Python", "patch.py"),
    action("cURL", "stop.sh", "stop", "stop a running server"),
    action("cURL", "start.sh", "start", "start a stopped server"),
    action("cURL", "reboot.sh", "reboot", "reboot a running server"),
    action("Python", "stop.py", "stop", "stop a running server"),
    action("Python", "start.py", "start", "start a stopped server"),
    action("Python", "reboot.py", "reboot", "reboot a running server"),
    action("JavaScript", "start.mjs", "start", "start a stopped server (stopped through the API first)"),
    // A 204 has no body: curl prints nothing.
    remove("cURL", "delete.sh", (_printed, stdout) => assert.equal(stdout, "")),
    // The Python sample prints response.status_code.
    remove("Python", "delete.py", (printed, stdout) => {
      assert.equal(printed, 204);
      assert.equal(stdout, "204\n");
    }),
  ];

  for (const sample of samples) {
    it(sample.title, async (t: TestContext) => {
      const interpreter = interpreters[sample.language];
      if ("missing" in interpreter.command) {
        if (REQUIRE_ALL) assert.fail(`${interpreter.command.missing} (VPS_REQUIRE_ALL_SAMPLES=1)`);
        t.skip(interpreter.command.missing);
        return;
      }
      if (sample.given) await bring(sample.given);
      const { printed, stdout } = await runSample(sample);
      await sample.check(printed, stdout, interpreter.shows);
    });
  }
});
