import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { client, eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { type Exposition, parseExposition, samplesOf, sampleValue } from "../support/prometheus-text.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { ADMIN_TOKEN, OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";
import { POSTGRES_SERVER_URL } from "../support/test-database.ts";
import { expectError } from "./expect-error.ts";

const METRICS_TOKEN = "metrics-token-for-tests-0123456789";

/** A scrape as Prometheus makes it: the exposition, parsed, with the answer's content type checked. */
async function scrape(url: string, token: string | undefined = METRICS_TOKEN): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(text);
}

const requests = (e: Exposition, method: string, route: string, status: string) =>
  sampleValue(e, "http_requests_total", { method, route, status }, 0);
const finished = (e: Exposition, kind: string, outcome: string) =>
  sampleValue(e, "vps_operations_finished_total", { kind, outcome });

describe("/metrics behind VPS_METRICS_TOKEN on the main port", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_METRICS_TOKEN: METRICS_TOKEN, VPS_SIM_FAULTS: "reboot:permanent" });
  });
  after(() => t.close());

  it("refuses a scrape without the token, or with another one (an API or the admin token)", async () => {
    expectError(await t.anonymous.get("/metrics"), 401, "unauthorized");
    for (const wrong of [`${METRICS_TOKEN}x`, OWNER_TOKEN, ADMIN_TOKEN, "short"]) {
      expectError(await client(t.url, wrong).get("/metrics"), 401, "unauthorized");
    }
  });

  it("counts requests under their route's pattern, with their status, never their URL", async () => {
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "counted" });
    assert.equal(created.status, 201);
    const id = created.body.id as number;
    await waitForStatus(t.owner, id, "active");
    const route = "/api/v1/servers/:server_id/";
    const before = await scrape(t.url);
    for (let i = 0; i < 3; i++) assert.equal((await t.owner.get(`/api/v1/servers/${id}/`)).status, 200);
    assert.equal((await t.owner.get("/api/v1/servers/999999/")).status, 404);
    assert.equal((await t.anonymous.get(`/api/v1/servers/${id}/`)).status, 401);
    assert.equal((await t.owner.get(`/no/such/path/${id}`)).status, 404);
    const now = await scrape(t.url);

    assert.equal(requests(now, "GET", route, "200") - requests(before, "GET", route, "200"), 3);
    assert.equal(requests(now, "GET", route, "404") - requests(before, "GET", route, "404"), 1);
    assert.equal(requests(now, "GET", route, "401") - requests(before, "GET", route, "401"), 1);
    assert.equal(requests(now, "GET", "unmatched", "404") - requests(before, "GET", "unmatched", "404"), 1);
    // The first scrape itself is counted by the time of the second.
    assert.equal(requests(now, "GET", "/metrics", "200") - requests(before, "GET", "/metrics", "200"), 1);
    const durations = (e: Exposition) =>
      sampleValue(e, "http_request_duration_seconds_count", { method: "GET", route }, 0);
    assert.equal(durations(now) - durations(before), 5);
    const inf = samplesOf(now, "http_request_duration_seconds_bucket", { method: "GET", route, le: "+Inf" });
    assert.equal(inf[0]?.value, durations(now));
    assert.equal(now.types.get("http_request_duration_seconds"), "histogram");
    // No route label is a concrete path: the id appears in none, and every one is a pattern or "unmatched".
    for (const sample of samplesOf(now, "http_requests_total")) {
      assert.doesNotMatch(sample.labels.route ?? "", new RegExp(`${id}|/no/such`), sample.labels.route);
    }
  });

  it("counts operations by kind and outcome as they end", async () => {
    const before = await scrape(t.url);
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "ops" });
    const id = created.body.id as number;
    await waitForStatus(t.owner, id, "active");
    // The sim driver refuses every reboot for good: the action fails, the server stays active.
    const reboot = await t.owner.post(`/api/v1/servers/${id}/reboot/`);
    assert.equal(reboot.status, 200);
    const ended = await eventually(async () => {
      const action = await t.owner.get(`/api/v1/actions/${reboot.body.action_id}/`);
      return action.body.status === "running" ? undefined : action.body;
    });
    assert.equal(ended.status, "error");
    const now = await scrape(t.url);
    assert.equal(finished(now, "create", "succeeded") - finished(before, "create", "succeeded"), 1);
    assert.equal(finished(now, "reboot", "failed") - finished(before, "reboot", "failed"), 1);
    assert.equal(finished(now, "reboot", "succeeded"), 0);
    assert.equal(finished(now, "delete", "cancelled"), 0);
  });

  it("counts billing runs and their durations", async () => {
    const before = await scrape(t.url);
    await t.app.engine.billing.runOnce();
    await t.app.engine.billing.runOnce();
    const now = await scrape(t.url);
    const runs = (e: Exposition) => sampleValue(e, "vps_billing_runs_total", { outcome: "succeeded" });
    assert.equal(runs(now) - runs(before), 2);
    assert.equal(sampleValue(now, "vps_billing_runs_total", { outcome: "failed" }), 0);
    const timed = (e: Exposition) => sampleValue(e, "vps_billing_run_duration_seconds_count");
    assert.equal(timed(now) - timed(before), 2);
  });

  it("shows the process's own metrics and, on PostgreSQL only, the pool's", async () => {
    const now = await scrape(t.url);
    assert.ok(sampleValue(now, "process_cpu_user_seconds_total") > 0);
    assert.ok(sampleValue(now, "nodejs_heap_size_used_bytes") > 0);
    if (POSTGRES_SERVER_URL) {
      const total = sampleValue(now, "vps_db_pool_connections");
      const idle = sampleValue(now, "vps_db_pool_idle_connections");
      assert.ok(total >= 1 && total <= 10, `total ${total}`);
      assert.ok(idle >= 0 && idle <= total, `idle ${idle} of ${total}`);
      // The scrape's own queries and the engine's share the pool: some may wait, as many as asked at most.
      const waiting = sampleValue(now, "vps_db_pool_waiting_queries");
      assert.ok(Number.isInteger(waiting) && waiting >= 0, `waiting ${waiting}`);
    } else {
      assert.deepEqual(samplesOf(now, "vps_db_pool_connections"), []);
    }
  });

  it("names no account, token or secret", async () => {
    const res = await fetch(`${t.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    const text = await res.text();
    for (const secret of [METRICS_TOKEN, OWNER_TOKEN, ADMIN_TOKEN, "owner@localhost", "account"]) {
      assert.ok(!text.includes(secret), `the exposition contains ${secret}`);
    }
  });

  it("is not in the OpenAPI document", async () => {
    const doc = await t.anonymous.get("/api/v1/openapi.json");
    assert.equal(doc.status, 200);
    assert.equal(doc.body.paths["/metrics"], undefined);
  });
});

describe("the operation queue and the hosts, read at each scrape", () => {
  const clock = new SettableClock();
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_METRICS_TOKEN: METRICS_TOKEN }, clock);
  });
  after(() => t.close());

  it("shows queued operations, the oldest one's age, and a host that stops beating as down", async () => {
    const empty = await scrape(t.url);
    assert.equal(sampleValue(empty, "vps_operation_queue_depth", { status: "pending" }), 0);
    assert.equal(sampleValue(empty, "vps_operation_queue_depth", { status: "running" }), 0);
    assert.equal(sampleValue(empty, "vps_operation_queue_oldest_age_seconds"), 0);
    // The sim driver's embedded hosts, one per location.
    const hosts = sampleValue(empty, "vps_hosts", { state: "enabled" });
    assert.equal(hosts, (await t.admin.get("/api/v1/admin/hosts/")).body.count);
    assert.ok(hosts >= 1);
    assert.equal(sampleValue(empty, "vps_hosts", { state: "down" }), 0);

    // With the engine stopped (its host's heartbeat too), work stays queued.
    await t.app.engine.stop();
    for (const name of ["queued-1", "queued-2"]) {
      assert.equal((await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name })).status, 201);
    }
    clock.advance(90_000);
    const queued = await scrape(t.url);
    assert.equal(sampleValue(queued, "vps_operation_queue_depth", { status: "pending" }), 2);
    assert.equal(sampleValue(queued, "vps_operation_queue_depth", { status: "running" }), 0);
    const age = sampleValue(queued, "vps_operation_queue_oldest_age_seconds");
    assert.ok(age >= 90 && age < 120, `age ${age}`);
    // Not heard from for 90 s, past VPS_HOST_DOWN_AFTER_MS (30 s).
    assert.equal(sampleValue(queued, "vps_hosts", { state: "enabled" }), 0);
    assert.equal(sampleValue(queued, "vps_hosts", { state: "down" }), hosts);
    assert.equal(sampleValue(queued, "vps_hosts", { state: "draining" }), 0);
  });
});

describe("/metrics on a listener of its own (VPS_METRICS_ADDRESS)", () => {
  for (const token of [undefined, METRICS_TOKEN]) {
    describe(token ? "with a token too" : "without a token", () => {
      let t: TestApp;
      let metricsUrl: string;
      before(async () => {
        t = await startTestApp({
          VPS_METRICS_ADDRESS: "127.0.0.1:0",
          ...(token ? { VPS_METRICS_TOKEN: token } : {}),
        });
        const listener = t.app.metricsHttp;
        assert.ok(listener);
        await listener.listen({ host: "127.0.0.1", port: 0 });
        const address = listener.server.address();
        assert.ok(address && typeof address === "object");
        metricsUrl = `http://127.0.0.1:${address.port}`;
      });
      after(() => t.close());

      it("serves /metrics there and not on the main port", async () => {
        expectError(await client(t.url, token).get("/metrics"), 404, "not_found");
        assert.equal((await t.owner.get("/api/v1/servers/")).status, 200);
        const now = await scrape(metricsUrl, token);
        assert.equal(requests(now, "GET", "/api/v1/servers/", "200"), 1);
        // The scrape of the listener is no API request.
        assert.equal(requests(now, "GET", "/metrics", "200"), 0);
        expectError(await client(metricsUrl, undefined).get("/api/v1/servers/"), 404, "not_found");
      });

      if (token) {
        it("refuses a scrape without the token there", async () => {
          expectError(await client(metricsUrl, undefined).get("/metrics"), 401, "unauthorized");
          expectError(await client(metricsUrl, OWNER_TOKEN).get("/metrics"), 401, "unauthorized");
        });
      }
    });
  }
});

describe("the metrics settings", () => {
  it("refuses an address that is not host:port and a token too short to guess at", () => {
    for (const address of ["9464", "localhost", "127.0.0.1:99999", "http://127.0.0.1:9464"]) {
      assert.throws(
        () => loadConfig({ VPS_METRICS_ADDRESS: address }),
        (err: Error) =>
          err instanceof ConfigError && /VPS_METRICS_ADDRESS must be host:port/.test(err.message),
      );
    }
    assert.throws(() => loadConfig({ VPS_METRICS_TOKEN: "short" }), /VPS_METRICS_TOKEN must be 16 to 256/);
    assert.deepEqual(loadConfig({ VPS_METRICS_ADDRESS: "[::1]:9464" }).metricsAddress, {
      host: "::1",
      port: 9464,
    });
  });
});

describe("/metrics with neither setting", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("is not served", async () => {
    expectError(await t.anonymous.get("/metrics"), 404, "not_found");
    expectError(await client(t.url, ADMIN_TOKEN).get("/metrics"), 404, "not_found");
    assert.equal(t.app.metricsHttp, undefined);
  });
});
