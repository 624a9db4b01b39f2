// The README's walkthrough, pasted as a newcomer would: the service started with the README's own settings on a
// fresh database, then every other `sh` block of "From token to server, with curl" and its subsections (the
// automation examples among them) run in one bash, top to bottom, with only the host's port replaced. Every curl fails the run on an HTTP error
// (`--fail-with-body`), so an example that answers 404, a body that is not JSON, or a step that does not wait
// for the one before it breaks this test. HOME is a fresh folder, so the SSH key step starts with no key.
// Set VPS_REQUIRE_ALL_SAMPLES=1 to fail, rather than skip, when bash, curl or ssh-keygen is missing.

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { freePort, type SpawnedServer, spawnServer } from "../support/spawned-server.ts";

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
const README_HOST = "http://127.0.0.1:8080";
const TOOLS = ["bash", "curl", "ssh-keygen"];

/** The fenced `sh` blocks between a heading and the next heading of the same or a higher level. */
function shBlocks(heading: string): string[] {
  const level = heading.indexOf(" ");
  const blocks: string[] = [];
  let inSection = false;
  let block: string[] | undefined;
  let fenced = false;
  for (const line of README.split("\n")) {
    if (line.startsWith("```")) {
      fenced = !fenced;
      if (inSection && fenced && line === "```sh") block = [];
      else if (block) {
        blocks.push(block.join("\n"));
        block = undefined;
      }
      continue;
    }
    if (fenced) {
      block?.push(line);
      continue;
    }
    const heading_ = /^(#+) /.exec(line);
    if (line === heading) inSection = true;
    else if (inSection && heading_ && (heading_[1] as string).length <= level) break;
  }
  assert.ok(inSection, `README has no heading "${heading}"`);
  return blocks;
}

/** `A=1 B=2 npm start` → { A: "1", B: "2" }. */
function startSettings(block: string): Record<string, string> {
  const line = block.split("\n").find((l) => l.trim().endsWith("npm start"));
  assert.ok(line, "the walkthrough's first block starts the service with npm start");
  const settings: Record<string, string> = {};
  for (const word of line
    .replace(/npm start$/, "")
    .trim()
    .split(/\s+/)) {
    const [name, ...value] = word.split("=");
    settings[name as string] = value.join("=");
  }
  return settings;
}

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], {
      env: { ...process.env, ...env, NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const missing = TOOLS.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
const skip =
  missing.length > 0 && process.env.VPS_REQUIRE_ALL_SAMPLES !== "1" ? `needs ${missing.join(", ")}` : false;

describe("the README walkthrough, pasted top to bottom", { skip }, () => {
  const [startBlock, ...walkthrough] = shBlocks("## From token to server, with curl");
  let dir: string;
  let service: SpawnedServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "vps-readme-"));
    const settings = startSettings(startBlock as string);
    service = await spawnServer({ ...settings, DATABASE_URL: join(dir, "walkthrough.db") }, await freePort());
  });
  after(async () => {
    service?.child.kill("SIGTERM");
    await service?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts on a fresh database and every request of the walkthrough and the automation examples succeeds", async () => {
    assert.ok(
      walkthrough.some((block) => block.includes("Idempotency-Key")),
      "the automation examples are part of the walkthrough",
    );
    const script = [
      "set -euo pipefail",
      // Any HTTP error fails the run, with the answer's body in the output.
      'curl() { command curl --fail-with-body --show-error "$@"; }',
      ...walkthrough,
    ]
      .join("\n")
      .replaceAll(README_HOST, service.url);
    const home = join(dir, "home");
    const { code, output } = await run(`mkdir -p "${home}"\n${script}`, { HOME: home });
    assert.equal(code, 0, `the walkthrough failed:\n${output}`);
    // What the README says the last steps show.
    assert.match(output, /(^|\})204$/m, "the delete answers 204");
    assert.match(output, /Idempotent-Replayed: true/i, "the second keyed create is the first one's answer");
    assert.match(output, /"id":6,"command":"create","status":"success"/, "action 6 is the second create");
  });
});
