import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { assertNoStackTrace, expectError, expectInvalid } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const REQUIRED = ["name", "plan_id", "os_id", "location"] as const;

function without(body: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...body };
  delete copy[field];
  return copy;
}

function ed25519PublicKey(): string {
  const dir = mkdtempSync(join(tmpdir(), "vps-key-"));
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", join(dir, "key")]);
    return readFileSync(join(dir, "key.pub"), "utf8").trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("server input validation", () => {
  let t: TestApp;
  let server: Json;
  before(async () => {
    t = await startTestApp();
    const created = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: "validation-target" });
    assert.equal(created.status, 201, created.text);
    server = await waitForStatus(t.owner, created.body.id, "active");
  });
  after(() => t.close());

  const create = (body: unknown) => t.owner.post(SERVERS, body);
  const detailOf = async (api: Client, id: number) => (await api.get(`${SERVERS}${id}/`)).body;

  describe("create", () => {
    for (const field of REQUIRED) {
      it(`rejects a body without ${field} with 400 naming it`, async () => {
        expectInvalid(await create(without(SAMPLE_CREATE, field)), field);
      });
    }

    it("names every missing required field at once", async () => {
      expectInvalid(await create({}), ...REQUIRED);
    });

    it("refuses a string plan_id rather than coercing it", async () => {
      expectInvalid(await create({ ...SAMPLE_CREATE, plan_id: "1" }), "plan_id");
    });

    it("refuses a numeric name", async () => {
      expectInvalid(await create({ ...SAMPLE_CREATE, name: 12345 }), "name");
    });

    it('refuses "true" for backups_enabled', async () => {
      expectInvalid(await create({ ...SAMPLE_CREATE, backups_enabled: "true" }), "backups_enabled");
    });

    it("refuses null, fractional and boolean ids", async () => {
      expectInvalid(await create({ ...SAMPLE_CREATE, os_id: null }), "os_id");
      expectInvalid(await create({ ...SAMPLE_CREATE, plan_id: 1.5 }), "plan_id");
      expectInvalid(await create({ ...SAMPLE_CREATE, ssh_key_id: true }), "ssh_key_id");
    });

    it("refuses an unknown field and names it", async () => {
      expectInvalid(await create({ ...SAMPLE_CREATE, region: "us-west" }), "region");
    });

    it("answers a body of thousands of unknown fields with a small error naming a few and counting the rest", async () => {
      const body: Record<string, unknown> = { ...SAMPLE_CREATE };
      for (let i = 0; i < 5000; i++) body[`u${i}`] = 1;
      const res = await create(body);
      expectError(res, 400, "invalid_input");
      const fields = Object.keys(res.body.error.fields);
      assert.equal(fields.length, 11, res.text.slice(0, 500));
      assert.deepEqual(res.body.error.fields["…"], ["and 4990 more"]);
      assert.ok(res.text.length < 2000, `an error body of ${res.text.length} bytes`);
    });

    it("cuts a very long unknown field name in the error", async () => {
      const res = await create({ ...SAMPLE_CREATE, ["x".repeat(30_000)]: 1 });
      expectError(res, 400, "invalid_input");
      assert.ok(res.text.length < 1000, `an error body of ${res.text.length} bytes`);
    });

    const badNames: [string, string][] = [
      ["empty", ""],
      ["64 characters long", "a".repeat(64)],
      ["starting with a hyphen", "-web"],
      ["ending with a hyphen", "web-"],
      ["with an underscore", "web_01"],
      ["with a dot", "web.01"],
      ["with a space", "web 01"],
    ];
    for (const [what, name] of badNames) {
      it(`refuses a name ${what}`, async () => {
        expectInvalid(await create({ ...SAMPLE_CREATE, name }), "name");
      });
    }

    it("accepts a name of 63 characters and one of a single character", async () => {
      for (const name of ["a".repeat(63), "x"]) {
        const res = await create({ ...SAMPLE_CREATE, name });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.name, name);
        assert.equal((await t.owner.delete(`${SERVERS}${res.body.id}/`)).status, 204);
      }
    });

    const label63 = "a".repeat(63);
    const badHostnames: [string, string][] = [
      ["that is a single label", "localhost"],
      ["with a label longer than 63 characters", `${"a".repeat(64)}.example.com`],
      ["longer than 253 characters", `${label63}.${label63}.${label63}.${label63}.com`],
      ["with an underscore", "web_01.example.com"],
      ["with a bad character", "web!.example.com"],
      ["with an empty label", "web..example.com"],
      ["with a label starting with a hyphen", "-web.example.com"],
      ["with a numeric top-level label", "web01.example.123"],
      ["that is empty", ""],
    ];
    for (const [what, hostname] of badHostnames) {
      it(`refuses a hostname ${what}`, async () => {
        expectInvalid(await create({ ...SAMPLE_CREATE, hostname }), "hostname");
      });
    }

    it("refuses an unknown plan, operating system, location or SSH key, naming each", async () => {
      expectInvalid(await create({ ...SAMPLE_CREATE, plan_id: 999 }), "plan_id");
      expectInvalid(await create({ ...SAMPLE_CREATE, os_id: 999 }), "os_id");
      expectInvalid(await create({ ...SAMPLE_CREATE, location: "mars-1" }), "location");
      expectInvalid(await create({ ...SAMPLE_CREATE, ssh_key_id: 999 }), "ssh_key_id");
      expectInvalid(
        await create({ ...SAMPLE_CREATE, plan_id: 999, os_id: 999, location: "mars-1" }),
        "plan_id",
        "os_id",
        "location",
      );
    });

    it("refuses plan 4 (Memory VPS) in us-west, where it is not offered", async () => {
      const res = await create({ ...SAMPLE_CREATE, plan_id: 4, location: "us-west" });
      expectInvalid(res, "plan_id");
      assert.match(res.body.error.fields.plan_id[0], /not offered in us-west/);
      const elsewhere = await create({ ...SAMPLE_CREATE, plan_id: 4, location: "us-east" });
      assert.equal(elsewhere.status, 201, elsewhere.text);
      await t.owner.delete(`${SERVERS}${elsewhere.body.id}/`);
    });

    it("refuses another account's SSH key", async () => {
      const other = await t.newAccount();
      const key = await other.post("/api/v1/ssh-keys/", { name: "theirs", public_key: ed25519PublicKey() });
      assert.equal(key.status, 201, key.text);
      expectInvalid(await create({ ...SAMPLE_CREATE, ssh_key_id: key.body.id }), "ssh_key_id");
    });

    it("rejects malformed JSON with 400 invalid_json", async () => {
      const res = await create('{"name": "web-server-02", "plan_id": 1,');
      expectError(res, 400, "invalid_json");
      expectError(await create("{name: 'x'}"), 400, "invalid_json");
    });

    it("rejects a JSON array, string, number or null body", async () => {
      for (const body of ["[]", JSON.stringify([SAMPLE_CREATE]), '"web-server-02"', "42", "null"]) {
        const res = await create(body);
        assert.equal(res.status, 400, `${body}: ${res.text}`);
        expectError(res, 400, res.body.error.code);
        assert.ok(["invalid_input", "invalid_json"].includes(res.body.error.code), res.text);
      }
    });

    it("rejects an empty body", async () => {
      const res = await t.owner.request("POST", SERVERS);
      assert.equal(res.status, 400, res.text);
      expectError(res, 400, res.body.error.code);
      const blank = await create("   ");
      assert.equal(blank.status, 400, blank.text);
    });

    it("rejects a body over 64 KiB with 413 payload_too_large", async () => {
      const res = await create({ ...SAMPLE_CREATE, name: "a".repeat(70 * 1024) });
      expectError(res, 413, "payload_too_large");
    });

    it("rejects a text/plain body with 415 unsupported_media_type", async () => {
      const res = await t.owner.request("POST", SERVERS, JSON.stringify(SAMPLE_CREATE), {
        "Content-Type": "text/plain",
      });
      expectError(res, 415, "unsupported_media_type");
      const form = await t.owner.request("POST", SERVERS, "name=web&plan_id=1", {
        "Content-Type": "application/x-www-form-urlencoded",
      });
      expectError(form, 415, "unsupported_media_type");
      assert.equal((await t.owner.get(SERVERS)).body.count, 1);
    });

    it("accepts application/json with a charset", async () => {
      const res = await t.owner.request(
        "POST",
        SERVERS,
        JSON.stringify({ ...SAMPLE_CREATE, name: "charset" }),
        {
          "Content-Type": "application/json; charset=utf-8",
        },
      );
      assert.equal(res.status, 201, res.text);
      await t.owner.delete(`${SERVERS}${res.body.id}/`);
    });

    it("creates nothing when it refuses", async () => {
      const countBefore = (await t.owner.get(SERVERS)).body.count;
      await create({ ...SAMPLE_CREATE, name: "bad_name" });
      await create({ ...SAMPLE_CREATE, plan_id: "1" });
      await create({ ...SAMPLE_CREATE, plan_id: 4 });
      assert.equal((await t.owner.get(SERVERS)).body.count, countBefore);
    });
  });

  describe("PUT", () => {
    const full = { name: "put-name", hostname: "put.example.com", backups_enabled: false };

    for (const field of ["name", "hostname", "backups_enabled"]) {
      it(`requires ${field}`, async () => {
        expectInvalid(await t.owner.put(`${SERVERS}${server.id}/`, without(full, field)), field);
      });
    }

    it("refuses wrong types, unknown fields and bad names", async () => {
      const path = `${SERVERS}${server.id}/`;
      expectInvalid(await t.owner.put(path, { ...full, backups_enabled: "false" }), "backups_enabled");
      expectInvalid(await t.owner.put(path, { ...full, plan_id: 2 }), "plan_id");
      expectInvalid(await t.owner.put(path, { ...full, name: "-bad" }), "name");
      expectInvalid(await t.owner.put(path, { ...full, hostname: "nodots" }), "hostname");
    });

    it("replaces all three fields", async () => {
      const res = await t.owner.put(`${SERVERS}${server.id}/`, full);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.name, "put-name");
      assert.equal(res.body.hostname, "put.example.com");
      assert.equal(res.body.backups_enabled, false);
      const stored = await detailOf(t.owner, server.id);
      assert.deepEqual(
        [stored.name, stored.hostname, stored.backups_enabled],
        ["put-name", "put.example.com", false],
      );
    });
  });

  describe("PATCH", () => {
    it("changes only the fields given", async () => {
      const path = `${SERVERS}${server.id}/`;
      await t.owner.put(path, { name: "patch-me", hostname: "patch.example.com", backups_enabled: true });
      const res = await t.owner.patch(path, { name: "patched" });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.name, "patched");
      assert.equal(res.body.hostname, "patch.example.com");
      assert.equal(res.body.backups_enabled, true);

      const flipped = await t.owner.patch(path, { backups_enabled: false });
      assert.equal(flipped.body.name, "patched");
      assert.equal(flipped.body.hostname, "patch.example.com");
      assert.equal(flipped.body.backups_enabled, false);
    });

    it("treats {} as a no-op 200", async () => {
      const path = `${SERVERS}${server.id}/`;
      const original = await detailOf(t.owner, server.id);
      const res = await t.owner.patch(path, {});
      assert.equal(res.status, 200, res.text);
      for (const key of ["name", "hostname", "backups_enabled", "status", "updated_at"]) {
        assert.deepEqual(res.body[key], original[key], key);
      }
    });

    it("refuses an invalid hostname and changes nothing", async () => {
      const path = `${SERVERS}${server.id}/`;
      const original = await detailOf(t.owner, server.id);
      expectInvalid(await t.owner.patch(path, { name: "would-change", hostname: "bad_host" }), "hostname");
      expectInvalid(await t.owner.patch(path, { hostname: "x".repeat(64) }), "hostname");
      const afterwards = await detailOf(t.owner, server.id);
      for (const key of ["name", "hostname", "backups_enabled", "updated_at"]) {
        assert.deepEqual(afterwards[key], original[key], key);
      }
    });

    it("refuses wrong types and unknown fields", async () => {
      const path = `${SERVERS}${server.id}/`;
      expectInvalid(await t.owner.patch(path, { backups_enabled: 1 }), "backups_enabled");
      expectInvalid(await t.owner.patch(path, { name: ["a"] }), "name");
      expectInvalid(await t.owner.patch(path, { status: "stopped" }), "status");
      expectError(await t.owner.patch(path, "{"), 400, "invalid_json");
    });

    it("on a server that does not exist is a 404, even with a valid body", async () => {
      expectError(await t.owner.patch(`${SERVERS}999999/`, { name: "ghost" }), 404, "not_found");
    });
  });

  it("never answers with a stack trace", async () => {
    const probes = [
      await create("{"),
      await create({ ...SAMPLE_CREATE, plan_id: "1" }),
      await create("x".repeat(70 * 1024)),
      await t.owner.request("POST", SERVERS, "name=x", {
        "Content-Type": "application/x-www-form-urlencoded",
      }),
      await t.owner.get(`${SERVERS}abc/`),
      await t.owner.get("/api/v1/nowhere"),
    ];
    for (const res of probes) assertNoStackTrace(res);
  });
});
