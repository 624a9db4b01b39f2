import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type * as Sdk from "../../sdk/src/index.ts";
import { SAMPLE_CREATE } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const SDK = join(import.meta.dirname, "../../sdk");

describe("the SDK built for plain JavaScript", () => {
  let t: TestApp;
  let sdk: typeof Sdk;
  before(async () => {
    execFileSync("npm", ["run", "sdk:build"], { cwd: join(SDK, ".."), stdio: "pipe" });
    sdk = (await import(join(SDK, "dist/index.js"))) as typeof Sdk;
    t = await startTestApp();
  });
  after(() => t.close());

  it("ships JavaScript and its declarations, the generated types among them", () => {
    for (const file of ["index.js", "index.d.ts", "client.js", "client.d.ts", "schema.d.ts"])
      assert.ok(existsSync(join(SDK, "dist", file)), file);
  });

  it("creates a server, waits for it and throws the API's codes from the built JavaScript", async () => {
    const account = await t.newAccount();
    const vps = sdk.createClient({ url: t.url, token: account.token ?? "" });
    const { data: created } = await vps.POST("/api/v1/servers/", { body: SAMPLE_CREATE });
    assert.ok(created);
    assert.equal((await vps.waitForAction(created.action_id, { timeoutSeconds: 60 })).status, "success");
    const missing = await vps
      .GET("/api/v1/actions/{action_id}/", { params: { path: { action_id: 999999 } } })
      .catch((error: unknown) => error);
    assert.ok(missing instanceof sdk.VpsApiError);
    assert.equal(missing.code, "not_found");
  });
});
