import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { stripVTControlCharacters } from "node:util";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { freePort } from "../support/spawned-server.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const REQUEST_ID = "log-format-request-1";

/**
 * Runs the service as a user would with stdout on a pipe, makes one request once it is ready, stops it with
 * SIGTERM, and returns what it wrote. `isReady` recognises the "ready" line in the format under test.
 */
async function runService(
  env: Record<string, string | undefined>,
  isReady: (line: string) => boolean,
): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", join(ROOT, "src", "main.ts")],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: "info",
        LOG_FORMAT: undefined,
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: ":memory:",
        VPS_ADMIN_TOKEN: "log-format-admin-0123456789abcdef",
        VPS_BOOTSTRAP_TOKEN: "log-format-owner-0123456789abcdef",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const lines: string[] = [];
  let asked = false;
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    if (asked || !isReady(line)) return;
    asked = true;
    fetch(`http://127.0.0.1:${port}/healthz`, { headers: { "x-request-id": REQUEST_ID } })
      .then((res) => res.arrayBuffer())
      .finally(() => child.kill("SIGTERM"));
  });
  // A service that never logs its ready line in the expected format would run on: it fails the test instead.
  const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(guard);
  return { code, lines: lines.filter((line) => line.trim() !== ""), stderr };
}

const isJsonReady = (line: string) => line.startsWith("{") && JSON.parse(line).msg === "ready";
const isPrettyReady = (line: string) => /\bINFO: ready$/.test(stripVTControlCharacters(line));

function assertJsonLines(lines: string[]): void {
  assert.ok(lines.length > 0);
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const entry of entries) {
    assert.equal(entry.service, "vps");
    assert.equal(typeof entry.level, "number");
    assert.equal(typeof entry.msg, "string");
  }
  const messages = entries.map((entry) => entry.msg);
  assert.ok(messages.includes("ready"));
  assert.ok(messages.includes("stopped cleanly"), "the last line before the exit is written");
  assert.ok(entries.some((entry) => entry.reqId === REQUEST_ID));
}

describe("LOG_FORMAT", () => {
  it("json: every line the service writes is a JSON object", async () => {
    const { code, lines, stderr } = await runService({ LOG_FORMAT: "json" }, isJsonReady);
    assert.equal(code, 0, stderr);
    assertJsonLines(lines);
  });

  it("unset, with stdout not a terminal: JSON lines as well", async () => {
    const { code, lines, stderr } = await runService({}, isJsonReady);
    assert.equal(code, 0, stderr);
    assertJsonLines(lines);
  });

  it("pretty: readable lines with a time, a level and the message, and no JSON", async () => {
    const { code, lines, stderr } = await runService({ LOG_FORMAT: "pretty" }, isPrettyReady);
    assert.equal(code, 0, stderr);
    const plain = lines.map(stripVTControlCharacters);
    for (const line of plain) assert.ok(!line.startsWith("{"), `a JSON line: ${line}`);
    assert.ok(plain.some((line) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z\] INFO: ready$/.test(line)));
    assert.ok(
      plain.some((line) => /\] INFO: stopped cleanly$/.test(line)),
      "the last line is written",
    );
    assert.ok(
      plain.some((line) => line.includes(REQUEST_ID)),
      "request lines carry their request id",
    );
  });

  it("refuses any other value with a configuration error", async () => {
    assert.throws(
      () => loadConfig({ LOG_FORMAT: "yaml" }),
      (err: Error) =>
        err instanceof ConfigError && /LOG_FORMAT must be one of json, pretty/.test(err.message),
    );
    const { code, lines, stderr } = await runService({ LOG_FORMAT: "yaml" }, () => false);
    assert.equal(code, 1);
    assert.match(stderr, /configuration error: LOG_FORMAT must be one of json, pretty, got "yaml"/);
    assert.deepEqual(lines, []);
  });

  it("defaults to pretty at a terminal and to JSON anywhere else", () => {
    assert.equal(loadConfig({}, true).logFormat, "pretty");
    assert.equal(loadConfig({}, false).logFormat, "json");
    assert.equal(loadConfig({ LOG_FORMAT: "json" }, true).logFormat, "json");
  });
});
