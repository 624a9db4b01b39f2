import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const committed = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "openapi.json"), "utf8"));

describe("the OpenAPI document", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("is served at /api/v1/openapi.json and equals the committed copy (run `npm run openapi` after changing a route)", async () => {
    const res = await t.anonymous.get("/api/v1/openapi.json");
    assert.equal(res.status, 200);
    assert.equal(res.body.openapi, "3.1.0");
    assert.deepEqual(res.body, committed);
  });

  it("describes the nine endpoints of the contract with their documented status codes", () => {
    const expected: [string, string, string[]][] = [
      ["/api/v1/servers/", "get", ["200", "401"]],
      ["/api/v1/servers/", "post", ["201", "400", "401", "402"]],
      ["/api/v1/servers/{server_id}/", "get", ["200", "401", "404"]],
      ["/api/v1/servers/{server_id}/", "put", ["200", "400", "404"]],
      ["/api/v1/servers/{server_id}/", "patch", ["200", "400", "404"]],
      ["/api/v1/servers/{server_id}/", "delete", ["204", "404"]],
      ["/api/v1/servers/{server_id}/start/", "post", ["200", "400", "404"]],
      ["/api/v1/servers/{server_id}/stop/", "post", ["200", "400", "404"]],
      ["/api/v1/servers/{server_id}/reboot/", "post", ["200", "400", "404"]],
    ];
    for (const [path, method, statuses] of expected) {
      const operation = committed.paths[path]?.[method];
      assert.ok(operation, `${method.toUpperCase()} ${path} is documented`);
      for (const status of statuses) {
        assert.ok(operation.responses[status], `${method.toUpperCase()} ${path} documents ${status}`);
      }
      assert.deepEqual(operation.security, [{ bearerAuth: [] }]);
    }
  });

  it("has human documentation at /docs", async () => {
    const res = await fetch(`${t.url}/docs/`, { redirect: "follow" });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger-ui/i);
  });
});
