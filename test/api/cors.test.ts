import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { OWNER_TOKEN, startTestApp, type TestApp } from "../support/test-app.ts";

describe("calls from a browser on another origin", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("answers the preflight of the documentation's fetch sample", async () => {
    const res = await fetch(`${t.url}/api/v1/servers/`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://panel.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /Authorization/);
    assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
  });

  it("lets the page read the response and its request id", async () => {
    const res = await fetch(`${t.url}/api/v1/servers/`, {
      headers: { Origin: "https://panel.example.com", Authorization: `Bearer ${OWNER_TOKEN}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /X-Request-Id/);
  });

  it("lets a page send an Idempotency-Key, as automation retries do", async () => {
    const res = await fetch(`${t.url}/api/v1/servers/`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://panel.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
      },
    });
    assert.equal(res.status, 204);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    for (const header of ["authorization", "content-type", "idempotency-key"]) {
      assert.ok(allowed.includes(header), `${header} not allowed: ${allowed.join(", ")}`);
    }
  });

  it("lets a page read the rate-limit, retry and replay headers the API documents", async () => {
    const res = await fetch(`${t.url}/api/v1/servers/`, {
      headers: { Origin: "https://panel.example.com", Authorization: `Bearer ${OWNER_TOKEN}` },
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get("ratelimit-limit"), "the answer carries RateLimit-Limit");
    const exposed = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    for (const header of [
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
      "retry-after",
      "idempotent-replayed",
      "action-id",
      "location",
      "x-request-id",
    ]) {
      assert.ok(exposed.includes(header), `${header} not exposed: ${exposed.join(", ")}`);
    }
  });

  it("allows only the configured origins when VPS_CORS_ORIGINS is set", async () => {
    const narrow = await startTestApp({ VPS_CORS_ORIGINS: "https://panel.example.com" });
    try {
      const allowed = await fetch(`${narrow.url}/healthz`, {
        headers: { Origin: "https://panel.example.com" },
      });
      assert.equal(allowed.headers.get("access-control-allow-origin"), "https://panel.example.com");
      const other = await fetch(`${narrow.url}/healthz`, { headers: { Origin: "https://evil.example" } });
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    } finally {
      await narrow.close();
    }
  });
});
