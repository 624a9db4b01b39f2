import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TSchema } from "@sinclair/typebox";
import Fastify from "fastify";
import { ServerList } from "../../src/api/schemas/servers.ts";
import { type Client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { pathOf, queryOf } from "../support/page-links.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError, expectInvalid } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// The keys of the contract's samples, exactly.
const SUMMARY_KEYS = [
  "id",
  "name",
  "hostname",
  "status",
  "ip_address",
  "location",
  "plan",
  "os",
  "created_at",
  "updated_at",
];
const DETAIL_KEYS = [
  "id",
  "name",
  "hostname",
  "status",
  "ip_address",
  "ipv6_address",
  "location",
  "plan",
  "os",
  "backups_enabled",
  "ssh",
  "resource_usage",
  "created_at",
  "updated_at",
];
const PLAN_SUMMARY_KEYS = ["id", "name", "vcpus", "memory", "storage"];
const USAGE_KEYS = ["cpu_percent", "memory_used", "disk_used", "bandwidth_used"];

const sorted = (keys: string[]) => [...keys].sort();

/** What a route with this response schema answers for the body: Fastify's own schema serialiser's bytes. */
async function serialisedBySchema(schema: TSchema, body: unknown): Promise<string> {
  const echo = Fastify();
  echo.get("/", { schema: { response: { 200: schema } } }, async () => body);
  try {
    return (await echo.inject({ method: "GET", url: "/" })).body;
  } finally {
    await echo.close();
  }
}

describe("reading servers", () => {
  let t: TestApp;
  /** An account of its own, so counts are exact: 5 servers in us-west, 2 in us-east, one of them stopped. */
  let reader: Client & { accountId: number };
  const west: number[] = [];
  const east: number[] = [];
  let stoppedId: number;

  before(async () => {
    t = await startTestApp();
    reader = await t.newAccount("50.00");
    for (let i = 0; i < 7; i++) {
      const location = i < 5 ? "us-west" : "us-east";
      const res = await reader.post(SERVERS, { ...SAMPLE_CREATE, name: `reader-${i}`, location });
      assert.equal(res.status, 201, res.text);
      (location === "us-west" ? west : east).push(res.body.id);
    }
    for (const id of [...west, ...east]) await waitForStatus(reader, id, "active");
    stoppedId = west[1] as number;
    assert.equal((await reader.post(`${SERVERS}${stoppedId}/stop/`)).status, 200);
    await waitForStatus(reader, stoppedId, "stopped");
  });
  after(() => t.close());

  describe("the list", () => {
    it("has count, next, previous and results in the summary form of the list sample", async () => {
      const res = await reader.get(SERVERS);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(sorted(Object.keys(res.body)), ["count", "next", "previous", "results"]);
      assert.equal(res.body.count, 7);
      assert.equal(res.body.next, null);
      assert.equal(res.body.previous, null);
      assert.equal(res.body.results.length, 7);
      for (const server of res.body.results) {
        assert.deepEqual(sorted(Object.keys(server)), sorted(SUMMARY_KEYS));
        assert.deepEqual(sorted(Object.keys(server.plan)), sorted(PLAN_SUMMARY_KEYS));
        assert.deepEqual(sorted(Object.keys(server.os)), ["id", "name"]);
        assert.equal(typeof server.id, "number");
        assert.match(server.created_at, TIMESTAMP);
        assert.match(server.updated_at, TIMESTAMP);
      }
      const first = res.body.results.find((s: Json) => s.id === west[0]);
      assert.deepEqual(first.plan, { id: 1, name: "Standard VPS", vcpus: 2, memory: 4096, storage: 80 });
      assert.deepEqual(first.os, { id: 5, name: "Ubuntu 22.04 LTS" });
      assert.equal(first.location, "us-west");
      assert.equal(first.hostname, "web02.example.com");
      assert.match(first.ip_address, /^203\.0\.113\.\d+$/);
    });

    it("pages with page and page_size while count stays exact", async () => {
      const seen: number[] = [];
      let res = await reader.get(`${SERVERS}?page_size=3`);
      const pages: Json[] = [];
      for (;;) {
        assert.equal(res.status, 200, res.text);
        pages.push(res.body);
        assert.equal(res.body.count, 7);
        seen.push(...res.body.results.map((s: Json) => s.id));
        if (res.body.next === null) break;
        res = await reader.get(pathOf(res.body.next));
      }
      assert.deepEqual(
        pages.map((p) => p.results.length),
        [3, 3, 1],
      );
      assert.deepEqual(sorted(seen.map(String)), sorted([...west, ...east].map(String)));
      assert.equal(pages[0].previous, null);
      assert.deepEqual(queryOf(pages[0].next), { page: "2", page_size: "3" });
      assert.deepEqual(queryOf(pages[1].previous), { page: "1", page_size: "3" });
      assert.deepEqual(queryOf(pages[1].next), { page: "3", page_size: "3" });
      assert.deepEqual(queryOf(pages[2].previous), { page: "2", page_size: "3" });
      assert.match(pages[0].next, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/servers\/\?/);
    });

    it("answers a page past the end with no results and the real count", async () => {
      const res = await reader.get(`${SERVERS}?page=9&page_size=3`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 7);
      assert.deepEqual(res.body.results, []);
      assert.equal(res.body.next, null);
      assert.deepEqual(queryOf(res.body.previous), { page: "3", page_size: "3" });
    });

    it("carries the filters in its links", async () => {
      const res = await reader.get(`${SERVERS}?location=us-west&status=active&page_size=2`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, 4);
      assert.deepEqual(queryOf(res.body.next), {
        status: "active",
        location: "us-west",
        page: "2",
        page_size: "2",
      });
      const second = await reader.get(pathOf(res.body.next));
      assert.equal(second.body.count, 4);
      assert.equal(second.body.next, null);
      for (const server of [...res.body.results, ...second.body.results]) {
        assert.equal(server.location, "us-west");
        assert.equal(server.status, "active");
      }
    });

    it("filters by status exactly", async () => {
      const stopped = await reader.get(`${SERVERS}?status=stopped`);
      assert.equal(stopped.body.count, 1);
      assert.deepEqual(
        stopped.body.results.map((s: Json) => [s.id, s.status]),
        [[stoppedId, "stopped"]],
      );
      const active = await reader.get(`${SERVERS}?status=active`);
      assert.equal(active.body.count, 6);
      assert.ok(active.body.results.every((s: Json) => s.status === "active"));
      const suspended = await reader.get(`${SERVERS}?status=suspended`);
      assert.equal(suspended.status, 200);
      assert.equal(suspended.body.count, 0);
      assert.deepEqual(suspended.body.results, []);
    });

    it("filters by location exactly", async () => {
      const westList = await reader.get(`${SERVERS}?location=us-west`);
      assert.equal(westList.body.count, 5);
      assert.deepEqual(
        sorted(westList.body.results.map((s: Json) => String(s.id))),
        sorted(west.map(String)),
      );
      const eastList = await reader.get(`${SERVERS}?location=us-east`);
      assert.equal(eastList.body.count, 2);
      assert.ok(eastList.body.results.every((s: Json) => s.location === "us-east"));
      const empty = await reader.get(`${SERVERS}?location=eu-central`);
      assert.equal(empty.status, 200);
      assert.equal(empty.body.count, 0);
    });

    it("answers each page in the bytes its schema's serialiser writes: nothing more, in the contract's order", async () => {
      for (const path of [
        SERVERS,
        `${SERVERS}?location=us-west&status=active&page_size=2`,
        `${SERVERS}?location=us-west&status=active&page=2&page_size=2`,
        `${SERVERS}?page=9&page_size=3`,
      ]) {
        const res = await reader.get(path);
        assert.equal(res.status, 200, res.text);
        assert.match(res.headers.get("content-type") ?? "", /^application\/json; charset=utf-8$/);
        assert.equal(res.text, await serialisedBySchema(ServerList, res.body), path);
      }
    });

    it("refuses an unknown status, naming status", async () => {
      expectInvalid(await reader.get(`${SERVERS}?status=running`), "status");
      expectInvalid(await reader.get(`${SERVERS}?status=`), "status");
    });

    it("refuses an unknown location, naming location", async () => {
      expectInvalid(await reader.get(`${SERVERS}?location=mars-1`), "location");
    });

    it("refuses a page_size over 500 or under 1, and a page under 1", async () => {
      expectInvalid(await reader.get(`${SERVERS}?page_size=501`), "page_size");
      expectInvalid(await reader.get(`${SERVERS}?page_size=0`), "page_size");
      expectInvalid(await reader.get(`${SERVERS}?page_size=ten`), "page_size");
      expectInvalid(await reader.get(`${SERVERS}?page=0`), "page");
      // A page so far out that its row offset is no longer an exact integer: a 400, not a 500.
      expectInvalid(await reader.get(`${SERVERS}?page=99999999999999999999`), "page");
      expectInvalid(await reader.get(`${SERVERS}?page=1e20&page_size=500`), "page");
      const max = await reader.get(`${SERVERS}?page_size=500`);
      assert.equal(max.status, 200, max.text);
    });
  });

  describe("the detail", () => {
    it("has exactly the keys of the detail sample", async () => {
      const res = await reader.get(`${SERVERS}${west[0]}/`);
      assert.equal(res.status, 200, res.text);
      const server = res.body;
      assert.deepEqual(sorted(Object.keys(server)), sorted(DETAIL_KEYS));
      assert.deepEqual(server.plan, {
        id: 1,
        name: "Standard VPS",
        vcpus: 2,
        memory: 4096,
        storage: 80,
        bandwidth: 2048,
      });
      assert.deepEqual(server.os, { id: 5, name: "Ubuntu 22.04 LTS" });
      assert.equal(server.backups_enabled, true);
      assert.equal(server.status, "active");
      assert.match(server.ip_address, /^203\.0\.113\.\d+$/);
      assert.match(server.ipv6_address, /^2001:db8:1::[0-9a-f]+$/);
      assert.match(server.created_at, TIMESTAMP);
      assert.match(server.updated_at, TIMESTAMP);
      assert.ok(server.updated_at >= server.created_at);
    });

    it("reports resource usage within the plan's limits", async () => {
      for (const id of [west[0], stoppedId, east[0]]) {
        const { body } = await reader.get(`${SERVERS}${id}/`);
        const usage = body.resource_usage;
        assert.deepEqual(sorted(Object.keys(usage)), sorted(USAGE_KEYS));
        for (const key of USAGE_KEYS) assert.equal(typeof usage[key], "number", key);
        assert.ok(usage.cpu_percent >= 0 && usage.cpu_percent <= 100, `cpu_percent ${usage.cpu_percent}`);
        assert.ok(
          usage.memory_used >= 0 && usage.memory_used <= body.plan.memory,
          `memory ${usage.memory_used}`,
        );
        assert.ok(usage.disk_used >= 0 && usage.disk_used <= body.plan.storage, `disk ${usage.disk_used}`);
        assert.ok(usage.bandwidth_used >= 0, `bandwidth ${usage.bandwidth_used}`);
        assert.ok(Number.isInteger(usage.memory_used) && Number.isInteger(usage.disk_used));
      }
      const stopped = (await reader.get(`${SERVERS}${stoppedId}/`)).body.resource_usage;
      assert.equal(stopped.cpu_percent, 0);
      assert.equal(stopped.memory_used, 0);
    });

    it("shows no addresses while a server is provisioning", async () => {
      const res = await reader.post(SERVERS, { ...SAMPLE_CREATE, name: "fresh" });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(sorted(Object.keys(res.body)), sorted([...DETAIL_KEYS, "message", "action_id"]));
      assert.equal(res.body.ip_address, null);
      assert.equal(res.body.ipv6_address, null);
      assert.equal(res.body.created_at, res.body.updated_at);
      assert.match(res.body.created_at, TIMESTAMP);
      assert.equal((await reader.delete(`${SERVERS}${res.body.id}/`)).status, 204);
    });
  });

  describe("paths", () => {
    it("serves every path with and without the trailing slash", async () => {
      const id = west[4] as number;
      for (const path of [SERVERS, "/api/v1/servers"]) {
        const res = await reader.get(path);
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        assert.equal(res.body.count, 7);
      }
      for (const path of [`${SERVERS}${id}/`, `${SERVERS}${id}`]) {
        const res = await reader.get(path);
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        assert.equal(res.body.id, id);
      }
      const patched = await reader.patch(`${SERVERS}${id}`, { name: "no-slash" });
      assert.equal(patched.status, 200, patched.text);
      const put = await reader.put(`${SERVERS}${id}`, {
        name: "no-slash",
        hostname: "no.slash.example",
        backups_enabled: false,
      });
      assert.equal(put.status, 200, put.text);

      const stop = await reader.post(`${SERVERS}${id}/stop`);
      assert.equal(stop.status, 200, stop.text);
      await waitForStatus(reader, id, "stopped");
      const start = await reader.post(`${SERVERS}${id}/start`);
      assert.equal(start.status, 200, start.text);
      await waitForStatus(reader, id, "active");
      const reboot = await reader.post(`${SERVERS}${id}/reboot`);
      assert.equal(reboot.status, 200, reboot.text);
      await waitForStatus(reader, id, "active");

      const created = await reader.post("/api/v1/servers", { ...SAMPLE_CREATE, name: "no-slash-create" });
      assert.equal(created.status, 201, created.text);
      assert.equal((await reader.delete(`${SERVERS}${created.body.id}`)).status, 204);
      assert.equal((await reader.get(`${SERVERS}${created.body.id}`)).status, 404);

      for (const path of [
        "/api/v1/plans",
        "/api/v1/os",
        "/api/v1/locations",
        "/api/v1/account",
        "/api/v1/ssh-keys",
      ]) {
        assert.equal((await reader.get(path)).status, 200, path);
      }
    });

    for (const id of ["abc", "0", "-1", "1.5", "99999999999999999999", "1e3", "%20"]) {
      it(`answers a malformed id "${id}" with a JSON 404, not a 500`, async () => {
        for (const [method, path] of [
          ["GET", `${SERVERS}${id}/`],
          ["GET", `${SERVERS}${id}`],
          ["DELETE", `${SERVERS}${id}/`],
          ["POST", `${SERVERS}${id}/start/`],
          ["POST", `${SERVERS}${id}/reboot`],
        ] as const) {
          expectError(await reader.request(method, path), 404, "not_found");
        }
        expectError(await reader.patch(`${SERVERS}${id}/`, { name: "x" }), 404, "not_found");
        expectError(
          await reader.put(`${SERVERS}${id}/`, {
            name: "x",
            hostname: "x.example.com",
            backups_enabled: true,
          }),
          404,
          "not_found",
        );
      });
    }

    it("answers a path with malformed percent-encoding in the error shape", async () => {
      expectError(await reader.get(`${SERVERS}%E0%A4%A/`), 400, "invalid_request");
    });

    it("answers an id that does not exist with 404 not_found", async () => {
      expectError(await reader.get(`${SERVERS}123456789/`), 404, "not_found");
    });

    it("answers an unknown route with a JSON 404", async () => {
      for (const path of ["/api/v1/nothing-here", "/api/v2/servers/", `${SERVERS}${west[0]}/explode/`]) {
        expectError(await reader.get(path), 404, "not_found");
      }
      expectError(await t.anonymous.get("/api/v1/nothing-here"), 404, "not_found");
    });
  });

  describe("request ids", () => {
    it("echoes a safe X-Request-Id", async () => {
      const res = await reader.request("GET", SERVERS, undefined, { "X-Request-Id": "req-42.abc_DEF:1" });
      assert.equal(res.headers.get("x-request-id"), "req-42.abc_DEF:1");
    });

    it("generates one when none is given", async () => {
      const res = await reader.get(SERVERS);
      assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      const again = await reader.get(SERVERS);
      assert.notEqual(again.headers.get("x-request-id"), res.headers.get("x-request-id"));
    });

    it("replaces an unsafe one with a generated id", async () => {
      for (const unsafe of ["has spaces in it", "x".repeat(200), "<script>"]) {
        const res = await reader.request("GET", SERVERS, undefined, { "X-Request-Id": unsafe });
        assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/, unsafe);
      }
    });

    it("is set on errors too", async () => {
      const res = await t.anonymous.request("GET", SERVERS, undefined, { "X-Request-Id": "failing-call" });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("x-request-id"), "failing-call");
      const missing = await reader.request("GET", "/api/v1/void", undefined, { "X-Request-Id": "lost-1" });
      assert.equal(missing.headers.get("x-request-id"), "lost-1");
    });
  });
});
