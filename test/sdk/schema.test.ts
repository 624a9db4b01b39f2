import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";

const SDK = join(import.meta.dirname, "../../sdk");

it("keeps the SDK's types generated from the committed openapi.json (npm run sdk:generate)", () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-sdk-schema-"));
  try {
    const generated = join(dir, "schema.d.ts");
    execFileSync(join(SDK, "node_modules/.bin/openapi-typescript"), ["../openapi.json", "-o", generated], {
      cwd: SDK,
      stdio: "pipe",
    });
    assert.ok(
      readFileSync(generated, "utf8") === readFileSync(join(SDK, "src/schema.d.ts"), "utf8"),
      "sdk/src/schema.d.ts is out of date: run npm run sdk:generate",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
