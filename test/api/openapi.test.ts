import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestApp, type TestApp } from "../support/test-app.ts";

type OpenApiOperation = {
  operationId?: string;
  tags?: string[];
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
};

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

  it("names every operation once, in camelCase, under a tag, with a 4xx besides 401 wherever it takes input", () => {
    const seen = new Map<string, string>();
    for (const [path, item] of Object.entries<Record<string, OpenApiOperation>>(committed.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        const id = operation.operationId ?? "";
        assert.match(id, /^[a-z]+(?:[A-Z][a-z0-9]*)+$/, `${where} has a camelCase verb-noun operationId`);
        assert.equal(seen.get(id), undefined, `${where} and ${seen.get(id)} share the operationId ${id}`);
        seen.set(id, where);
        assert.ok((operation.tags ?? []).length > 0, `${where} has a tag`);
        if ((operation.parameters ?? []).length > 0 || operation.requestBody) {
          const refusals = Object.keys(operation.responses).filter((s) => /^4\d\d$/.test(s) && s !== "401");
          assert.ok(refusals.length > 0, `${where} takes input and documents a 4xx besides 401`);
        }
      }
    }
  });

  it("gives the nine endpoints of the contract the names a generator expects", () => {
    const expected: [string, string, string][] = [
      ["/api/v1/servers/", "get", "listServers"],
      ["/api/v1/servers/", "post", "createServer"],
      ["/api/v1/servers/{server_id}/", "get", "getServer"],
      ["/api/v1/servers/{server_id}/", "put", "updateServer"],
      ["/api/v1/servers/{server_id}/", "patch", "patchServer"],
      ["/api/v1/servers/{server_id}/", "delete", "deleteServer"],
      ["/api/v1/servers/{server_id}/start/", "post", "startServer"],
      ["/api/v1/servers/{server_id}/stop/", "post", "stopServer"],
      ["/api/v1/servers/{server_id}/reboot/", "post", "rebootServer"],
    ];
    for (const [path, method, operationId] of expected) {
      assert.equal(committed.paths[path][method].operationId, operationId, `${method.toUpperCase()} ${path}`);
    }
  });

  it("has human documentation at /docs", async () => {
    const res = await fetch(`${t.url}/docs/`, { redirect: "follow" });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /swagger-ui/i);
  });
});
