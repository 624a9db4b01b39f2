import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { pathOf, queryOf } from "../support/page-links.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError, expectInvalid } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";
const KEYS = "/api/v1/ssh-keys/";
const MONEY = /^\d+\.\d\d$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

interface GeneratedKey {
  publicKey: string;
  fingerprint: string;
  bits: number;
}

/** A real key pair made by ssh-keygen, with the public key and the fingerprint ssh-keygen itself reports. */
function sshKeygen(dir: string, name: string, type: string, bits?: number): GeneratedKey {
  const file = join(dir, name);
  const size = bits === undefined ? [] : ["-b", String(bits)];
  execFileSync("ssh-keygen", ["-q", "-t", type, ...size, "-N", "", "-C", `${name}@test`, "-f", file]);
  const listed = execFileSync("ssh-keygen", ["-lf", `${file}.pub`, "-E", "sha256"], { encoding: "utf8" });
  const [shownBits = "", fingerprint = ""] = listed.trim().split(/\s+/);
  return { publicKey: readFileSync(`${file}.pub`, "utf8").trim(), fingerprint, bits: Number(shownBits) };
}

describe("supporting resources", () => {
  let t: TestApp;
  let dir: string;
  let keys: Record<"ed25519" | "ecdsa" | "rsa2048" | "rsa1024" | "spare", GeneratedKey>;
  before(async () => {
    t = await startTestApp();
    dir = mkdtempSync(join(tmpdir(), "vps-keys-"));
    keys = {
      ed25519: sshKeygen(dir, "ed", "ed25519"),
      ecdsa: sshKeygen(dir, "ec", "ecdsa", 256),
      rsa2048: sshKeygen(dir, "rsa", "rsa", 2048),
      rsa1024: sshKeygen(dir, "weak", "rsa", 1024),
      spare: sshKeygen(dir, "spare", "ed25519"),
    };
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the catalogue", () => {
    it("lists plans 1 and 2 as the samples show them, with prices and locations", async () => {
      const res = await t.owner.get("/api/v1/plans/");
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.count, res.body.results.length);
      const plans = new Map<number, Json>(res.body.results.map((p: Json) => [p.id, p]));
      const standard = plans.get(1);
      assert.deepEqual(Object.keys(standard).sort(), [
        "bandwidth",
        "currency",
        "id",
        "locations",
        "memory",
        "name",
        "price_hourly",
        "price_monthly",
        "storage",
        "vcpus",
      ]);
      assert.deepEqual(
        { ...standard, locations: undefined },
        {
          id: 1,
          name: "Standard VPS",
          vcpus: 2,
          memory: 4096,
          storage: 80,
          bandwidth: 2048,
          price_hourly: "0.03",
          price_monthly: "20.00",
          currency: "USD",
          locations: undefined,
        },
      );
      assert.ok(standard.locations.includes("us-west") && standard.locations.includes("us-east"));
      const performance = plans.get(2);
      assert.deepEqual(
        [performance.name, performance.vcpus, performance.memory, performance.storage],
        ["Performance VPS", 4, 8192, 160],
      );
      for (const plan of res.body.results) {
        assert.match(plan.price_hourly, MONEY);
        assert.match(plan.price_monthly, MONEY);
        assert.ok(Array.isArray(plan.locations));
      }
      assert.ok(!plans.get(4).locations.includes("us-west"), "Memory VPS is not offered in us-west");
    });

    it("lists operating systems 3 (Debian 12) and 5 (Ubuntu 22.04 LTS)", async () => {
      const res = await t.owner.get("/api/v1/os/");
      assert.equal(res.status, 200, res.text);
      const systems = new Map<number, Json>(res.body.results.map((o: Json) => [o.id, o]));
      assert.equal(systems.get(3).name, "Debian 12");
      assert.equal(systems.get(5).name, "Ubuntu 22.04 LTS");
      assert.deepEqual(Object.keys(systems.get(5)).sort(), ["distribution", "id", "name", "version"]);
    });

    it("lists the locations us-west and us-east", async () => {
      const res = await t.owner.get("/api/v1/locations/");
      assert.equal(res.status, 200, res.text);
      const codes = res.body.results.map((l: Json) => l.code);
      assert.ok(codes.includes("us-west") && codes.includes("us-east"), codes.join());
      for (const location of res.body.results) {
        assert.deepEqual(Object.keys(location).sort(), ["code", "country", "id", "name"]);
      }
    });
  });

  describe("the account", () => {
    it("shows the balance and currency", async () => {
      const res = await t.owner.get("/api/v1/account/");
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.balance, "100.00");
      assert.equal(res.body.currency, "USD");
      assert.equal(typeof res.body.id, "number");
      assert.equal(typeof res.body.email, "string");
      assert.match(res.body.created_at, TIMESTAMP);
    });
  });

  describe("SSH keys", () => {
    for (const kind of ["ed25519", "ecdsa", "rsa2048"] as const) {
      it(`accepts a real ${kind} key with the fingerprint ssh-keygen prints`, async () => {
        const key = keys[kind];
        const res = await t.owner.post(KEYS, { name: `my ${kind}`, public_key: key.publicKey });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.headers.get("location"), `${KEYS}${res.body.id}/`);
        assert.equal(res.body.name, `my ${kind}`);
        assert.equal(res.body.fingerprint, key.fingerprint);
        assert.equal(res.body.bits, key.bits);
        assert.equal(res.body.public_key, key.publicKey);
        assert.equal(
          res.body.type,
          { ed25519: "ssh-ed25519", ecdsa: "ecdsa-sha2-nistp256", rsa2048: "ssh-rsa" }[kind],
        );
        assert.match(res.body.created_at, TIMESTAMP);
        const read = await t.owner.get(`${KEYS}${res.body.id}/`);
        assert.deepEqual(read.body, res.body);
      });
    }

    it("rejects an RSA key of 1024 bits, naming public_key", async () => {
      const res = await t.owner.post(KEYS, { name: "weak", public_key: keys.rsa1024.publicKey });
      expectInvalid(res, "public_key");
      assert.match(res.body.error.fields.public_key[0], /2048/);
    });

    it("rejects garbage, naming public_key", async () => {
      const ed = keys.ed25519.publicKey.split(" ");
      for (const garbage of [
        "not a key",
        "ssh-ed25519",
        "ssh-ed25519 AAAA",
        `ssh-ed25519 ${ed[1]?.slice(0, -4)}`,
        `ssh-rsa ${ed[1]}`,
        `${keys.ed25519.publicKey}\n${keys.spare.publicKey}`,
        `command="sh" ${keys.ed25519.publicKey}`,
        readFileSync(join(dir, "ed"), "utf8"),
      ]) {
        expectInvalid(await t.owner.post(KEYS, { name: "junk", public_key: garbage }), "public_key");
      }
      expectInvalid(await t.owner.post(KEYS, { name: "junk" }), "public_key");
      expectInvalid(await t.owner.post(KEYS, { name: "", public_key: keys.spare.publicKey }), "name");
    });

    it("refuses the same key twice with 409 ssh_key_exists, whatever its name or comment", async () => {
      const first = await t.owner.post(KEYS, { name: "twice", public_key: keys.spare.publicKey });
      assert.equal(first.status, 201, first.text);
      expectError(
        await t.owner.post(KEYS, { name: "twice", public_key: keys.spare.publicKey }),
        409,
        "ssh_key_exists",
      );
      const [type, data] = keys.spare.publicKey.split(" ");
      expectError(
        await t.owner.post(KEYS, { name: "other name", public_key: `${type} ${data} another-comment` }),
        409,
        "ssh_key_exists",
      );
      // Another account may hold the same public key.
      const other = await t.newAccount("1.00");
      const theirs = await other.post(KEYS, { name: "mine too", public_key: keys.spare.publicKey });
      assert.equal(theirs.status, 201, theirs.text);
      assert.equal(theirs.body.fingerprint, keys.spare.fingerprint);
      assert.equal((await t.owner.delete(`${KEYS}${first.body.id}/`)).status, 204);
    });

    it("lists, renames and deletes a key", async () => {
      const created = await t.owner.post(KEYS, { name: "laptop", public_key: keys.spare.publicKey });
      assert.equal(created.status, 201, created.text);
      const path = `${KEYS}${created.body.id}/`;
      const list = await t.owner.get(KEYS);
      assert.equal(list.status, 200);
      assert.equal(list.body.count, list.body.results.length);
      assert.ok(list.body.results.some((k: Json) => k.id === created.body.id && k.name === "laptop"));

      const renamed = await t.owner.patch(path, { name: "work laptop" });
      assert.equal(renamed.status, 200, renamed.text);
      assert.deepEqual(renamed.body, { ...created.body, name: "work laptop" });
      assert.equal((await t.owner.get(path)).body.name, "work laptop");
      expectInvalid(await t.owner.patch(path, { name: "" }), "name");
      expectInvalid(
        await t.owner.patch(path, { name: "x", public_key: keys.ed25519.publicKey }),
        "public_key",
      );

      const deleted = await t.owner.delete(path);
      assert.equal(deleted.status, 204);
      assert.equal(deleted.text, "");
      expectError(await t.owner.get(path), 404, "not_found");
      expectError(await t.owner.delete(path), 404, "not_found");
      expectError(await t.owner.patch(path, { name: "gone" }), 404, "not_found");
      assert.ok(!(await t.owner.get(KEYS)).body.results.some((k: Json) => k.id === created.body.id));
    });

    it("installs a key on a new server, which outlives the key", async () => {
      const acct = await t.newAccount("5.00");
      const key = await acct.post(KEYS, { name: "deploy", public_key: keys.ed25519.publicKey });
      assert.equal(key.status, 201, key.text);
      const created = await acct.post(SERVERS, { ...SAMPLE_CREATE, ssh_key_id: key.body.id });
      assert.equal(created.status, 201, created.text);
      await waitForStatus(acct, created.body.id, "active");
      assert.equal((await acct.delete(`${KEYS}${key.body.id}/`)).status, 204);
      const server = await acct.get(`${SERVERS}${created.body.id}/`);
      assert.equal(server.status, 200);
      assert.equal(server.body.status, "active");
      expectInvalid(await acct.post(SERVERS, { ...SAMPLE_CREATE, ssh_key_id: key.body.id }), "ssh_key_id");
    });
  });

  describe("credit", () => {
    it("lets an account without credit read but not create (402), until the admin adds credit", async () => {
      const broke = await t.newAccount("0.00");
      assert.equal((await broke.get("/api/v1/account/")).body.balance, "0.00");
      const list = await broke.get(SERVERS);
      assert.equal(list.status, 200);
      assert.equal(list.body.count, 0);
      assert.equal((await broke.get("/api/v1/plans/")).status, 200);
      assert.equal((await broke.get("/api/v1/os/")).status, 200);
      assert.equal((await broke.get("/api/v1/locations/")).status, 200);
      assert.equal((await broke.get(KEYS)).status, 200);

      const refused = await broke.post(SERVERS, SAMPLE_CREATE);
      expectError(refused, 402, "insufficient_credit");
      assert.equal((await broke.get(SERVERS)).body.count, 0);

      const credited = await t.admin.post(`/api/v1/admin/accounts/${broke.accountId}/credit/`, {
        amount: "10.00",
      });
      assert.equal(credited.status, 200, credited.text);
      assert.equal(credited.body.balance, "10.00");
      assert.equal((await broke.get("/api/v1/account/")).body.balance, "10.00");
      const created = await broke.post(SERVERS, SAMPLE_CREATE);
      assert.equal(created.status, 201, created.text);
    });

    it("refuses a create when the balance is under one hour of the plan (0.01 < 0.03)", async () => {
      const poor = await t.newAccount("0.01");
      expectError(await poor.post(SERVERS, SAMPLE_CREATE), 402, "insufficient_credit");
      // Plan 3 costs 0.01 an hour, which the balance covers.
      const starter = await poor.post(SERVERS, { ...SAMPLE_CREATE, plan_id: 3 });
      assert.equal(starter.status, 201, starter.text);
    });

    it("accepts a create when the balance is exactly one hour of the plan", async () => {
      const exact = await t.newAccount("0.03");
      const res = await exact.post(SERVERS, SAMPLE_CREATE);
      assert.equal(res.status, 201, res.text);
    });

    it("checks validation before credit: a broke account with a bad body gets 400", async () => {
      const broke = await t.newAccount("0.00");
      expectInvalid(await broke.post(SERVERS, { ...SAMPLE_CREATE, name: "bad_name" }), "name");
    });

    it("lets the admin deduct credit and refuses malformed amounts", async () => {
      const acct = await t.newAccount("20.00");
      const path = `/api/v1/admin/accounts/${acct.accountId}/credit/`;
      // A deduction is a correction: it needs a reason.
      expectInvalid(await t.admin.post(path, { amount: "-5.50" }), "reason");
      const deducted = await t.admin.post(path, { amount: "-5.50", reason: "Refund paid by card" });
      assert.equal(deducted.status, 200, deducted.text);
      assert.equal(deducted.body.balance, "14.50");
      for (const amount of ["abc", "1.234", "0.00", ""]) {
        expectInvalid(await t.admin.post(path, { amount }), "amount");
      }
      expectInvalid(await t.admin.post(path, { amount: 10 }), "amount");
      expectError(
        await t.admin.post("/api/v1/admin/accounts/999999/credit/", { amount: "1.00" }),
        404,
        "not_found",
      );
      assert.equal((await acct.get("/api/v1/account/")).body.balance, "14.50");
    });
  });

  describe("money bounds", () => {
    const credit = (accountId: number, amount: string) =>
      t.admin.post(`/api/v1/admin/accounts/${accountId}/credit/`, {
        amount,
        ...(amount.startsWith("-") ? { reason: "A test of the bounds" } : {}),
      });

    it("refuses a deduction beyond the bound every time, with a stable code and the balance untouched", async () => {
      const acct = await t.newAccount("20.00");
      for (let i = 0; i < 100; i++) {
        const res = await credit(acct.accountId, "-999999999999.99");
        expectError(res, 400, "amount_out_of_range", ["amount"]);
      }
      expectError(await credit(acct.accountId, "999999999999.99"), 400, "amount_out_of_range", ["amount"]);
      assert.equal((await acct.get("/api/v1/account/")).body.balance, "20.00");
    });

    it("lets a balance reach ±1,000,000,000.00 and not one cent beyond", async () => {
      const rich = await t.newAccount("0.00");
      assert.equal((await credit(rich.accountId, "1000000000.00")).body.balance, "1000000000.00");
      expectError(await credit(rich.accountId, "0.01"), 400, "amount_out_of_range", ["amount"]);
      const poor = await t.newAccount("0.00");
      assert.equal((await credit(poor.accountId, "-600000000.00")).body.balance, "-600000000.00");
      assert.equal((await credit(poor.accountId, "-400000000.00")).body.balance, "-1000000000.00");
      expectError(await credit(poor.accountId, "-0.01"), 400, "amount_out_of_range", ["amount"]);
      assert.equal((await poor.get("/api/v1/account/")).body.balance, "-1000000000.00");
    });

    it("holds the bound when top-ups arrive at once", async () => {
      const acct = await t.newAccount("0.00");
      const answers = await Promise.all(
        Array.from({ length: 16 }, () => credit(acct.accountId, "100000000.00")),
      );
      const accepted = answers.filter((res) => res.status === 200);
      for (const res of answers.filter((r) => r.status !== 200)) {
        expectError(res, 400, "amount_out_of_range", ["amount"]);
      }
      assert.equal(accepted.length, 10);
      assert.equal((await acct.get("/api/v1/account/")).body.balance, "1000000000.00");
    });

    it("refuses an opening credit beyond the bound", async () => {
      expectError(
        await t.admin.post("/api/v1/admin/accounts/", {
          email: "whale@example.com",
          credit: "999999999999.99",
        }),
        400,
        "amount_out_of_range",
        ["credit"],
      );
      expectError(
        await t.admin.post("/api/v1/admin/accounts/", {
          email: "whale@example.com",
          credit: "1000000000.01",
        }),
        400,
        "amount_out_of_range",
        ["credit"],
      );
      const res = await t.admin.post("/api/v1/admin/accounts/", {
        email: "whale@example.com",
        credit: "1000000000.00",
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.balance, "1000000000.00");
    });

    it("refuses plan prices beyond the bound", async () => {
      const plan = {
        name: "Gold-plated",
        vcpus: 1,
        memory: 1024,
        storage: 25,
        bandwidth: 1024,
        price_hourly: "999999999999.99",
        price_monthly: "999999999999.99",
        locations: ["us-west"],
      };
      expectError(await t.admin.post("/api/v1/admin/plans/", plan), 400, "amount_out_of_range", [
        "price_hourly",
        "price_monthly",
      ]);
      const plans = await t.owner.get("/api/v1/plans/");
      assert.ok(!plans.body.results.some((p: Json) => p.name === "Gold-plated"));
    });
  });

  describe("admin accounts", () => {
    it("creates an account whose api_token works at once", async () => {
      const res = await t.admin.post("/api/v1/admin/accounts/", {
        email: "new@example.com",
        credit: "25.00",
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ["api_token", "balance", "currency", "email", "id"]);
      assert.equal(res.body.email, "new@example.com");
      assert.equal(res.body.balance, "25.00");
      assert.equal(res.body.currency, "USD");
      const api = client(t.url, res.body.api_token);
      const account = await api.get("/api/v1/account/");
      assert.equal(account.status, 200, account.text);
      assert.equal(account.body.id, res.body.id);
      assert.equal(account.body.email, "new@example.com");
      assert.equal(account.body.balance, "25.00");
    });

    it("creates an account with no credit when none is given", async () => {
      const res = await t.admin.post("/api/v1/admin/accounts/", { email: "nocredit@example.com" });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.balance, "0.00");
    });

    it("lists accounts in pages, refusing a page out of range", async () => {
      const res = await t.admin.get("/api/v1/admin/accounts/?page_size=2");
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.results.length, 2);
      assert.ok(res.body.count > 2);
      assert.equal(res.body.previous, null);
      assert.deepEqual(queryOf(res.body.next), {
        page: "2",
        page_size: "2",
      });
      const second = await t.admin.get(pathOf(res.body.next));
      assert.equal(second.status, 200, second.text);
      assert.notEqual(second.body.results[0].id, res.body.results[0].id);
      assert.deepEqual(queryOf(second.body.previous), {
        page: "1",
        page_size: "2",
      });
      expectInvalid(await t.admin.get("/api/v1/admin/accounts/?page=99999999999999999999"), "page");
      expectInvalid(await t.admin.get("/api/v1/admin/accounts/?page_size=501"), "page_size");
    });

    it("refuses a duplicate email with 409", async () => {
      const body = { email: "dup@example.com", credit: "1.00" };
      assert.equal((await t.admin.post("/api/v1/admin/accounts/", body)).status, 201);
      expectError(await t.admin.post("/api/v1/admin/accounts/", body), 409, "account_exists");
    });

    it("takes emails differing only in case for one address, keeping the email as given", async () => {
      const first = await t.admin.post("/api/v1/admin/accounts/", { email: "Mixed.Case@Example.COM" });
      assert.equal(first.status, 201, first.text);
      assert.equal(first.body.email, "Mixed.Case@Example.COM");
      for (const email of ["mixed.case@example.com", "MIXED.CASE@EXAMPLE.COM", "Mixed.Case@example.com"]) {
        expectError(await t.admin.post("/api/v1/admin/accounts/", { email }), 409, "account_exists");
      }
      const account = await t.admin.get(`/api/v1/admin/accounts/${first.body.id}/`);
      assert.equal(account.body.email, "Mixed.Case@Example.COM");
    });

    it("makes one account of concurrent creates of one email in different cases", async () => {
      const emails = ["race@example.com", "Race@example.com", "RACE@example.com", "race@EXAMPLE.com"];
      const answers = await Promise.all(
        [...emails, ...emails].map((email) => t.admin.post("/api/v1/admin/accounts/", { email })),
      );
      assert.equal(answers.filter((res) => res.status === 201).length, 1);
      for (const res of answers.filter((r) => r.status !== 201)) expectError(res, 409, "account_exists");
    });

    it("refuses a malformed email or credit", async () => {
      expectInvalid(await t.admin.post("/api/v1/admin/accounts/", { email: "not-an-email" }), "email");
      expectInvalid(
        await t.admin.post("/api/v1/admin/accounts/", { email: "x@example.com", credit: "-1.00" }),
        "credit",
      );
      expectInvalid(
        await t.admin.post("/api/v1/admin/accounts/", { email: "y@example.com", credit: 5 }),
        "credit",
      );
    });
  });

  describe("admin catalogue", () => {
    it("refuses a block that overlaps a pool, naming the pool and the addresses, and adds none of it", async () => {
      const added = (code: string, cidr: string) =>
        t.admin.post(`/api/v1/admin/locations/${code}/addresses/`, { cidr });
      const location = await t.admin.post("/api/v1/admin/locations/", {
        code: "lab-2",
        name: "Lab 2",
        country: "NL",
      });
      assert.equal(location.status, 201, location.text);
      assert.deepEqual((await added("lab-2", "198.19.0.0/29")).body, { family: 4, added: 6 });

      const overlapping = await added("lab-2", "198.19.0.0/26");
      expectError(overlapping, 409, "address_range_overlaps", ["cidr"]);
      assert.equal(
        overlapping.body.error.message,
        "198.19.0.0/26 overlaps the pool of lab-2: 6 of its 62 addresses (198.19.0.1 to 198.19.0.6). " +
          "Add a block that no pool holds yet.",
      );
      // Another location's pool counts too: us-west holds 203.0.113.1 to .250 from the start.
      const elsewhere = await added("lab-2", "203.0.113.128/25");
      expectError(elsewhere, 409, "address_range_overlaps", ["cidr"]);
      assert.match(
        elsewhere.body.error.message,
        /the pool of us-west: 122 of its 126 addresses \(203\.0\.113\.129 to 203\.0\.113\.250\)/,
      );

      // Nothing of a refused block was added: the rest of the /26 is still free to add, and adds in full.
      assert.deepEqual((await added("lab-2", "198.19.0.8/29")).body, { family: 4, added: 6 });
      assert.deepEqual((await added("lab-2", "198.19.0.64/26")).body, { family: 4, added: 62 });
    });

    it("adds a location, its addresses, an OS and a plan, and a server there gets an address of the block", async () => {
      const location = await t.admin.post("/api/v1/admin/locations/", {
        code: "lab-1",
        name: "Lab One",
        country: "NL",
      });
      assert.equal(location.status, 201, location.text);
      assert.deepEqual({ ...location.body, id: 0 }, { id: 0, code: "lab-1", name: "Lab One", country: "NL" });
      expectError(
        await t.admin.post("/api/v1/admin/locations/", { code: "lab-1", name: "Again", country: "NL" }),
        409,
        "location_exists",
      );
      expectInvalid(
        await t.admin.post("/api/v1/admin/locations/", { code: "Lab One", name: "Bad", country: "NL" }),
        "code",
      );

      const block = await t.admin.post("/api/v1/admin/locations/lab-1/addresses/", { cidr: "198.18.0.0/29" });
      assert.equal(block.status, 201, block.text);
      assert.deepEqual(block.body, { family: 4, added: 6 });
      expectError(
        await t.admin.post("/api/v1/admin/locations/lab-1/addresses/", { cidr: "198.18.0.0/29" }),
        409,
        "address_range_overlaps",
        ["cidr"],
      );
      expectInvalid(
        await t.admin.post("/api/v1/admin/locations/lab-1/addresses/", { cidr: "198.18.0.0/99" }),
        "cidr",
      );
      expectError(
        await t.admin.post("/api/v1/admin/locations/nowhere/addresses/", { cidr: "198.18.1.0/29" }),
        404,
        "not_found",
      );

      const os = await t.admin.post("/api/v1/admin/os/", {
        name: "Alpine 3.20",
        distribution: "alpine",
        version: "3.20",
        image: "alpine-3.20.qcow2",
      });
      assert.equal(os.status, 201, os.text);
      assert.ok((await t.owner.get("/api/v1/os/")).body.results.some((o: Json) => o.id === os.body.id));

      const plan = await t.admin.post("/api/v1/admin/plans/", {
        name: "Lab VPS",
        vcpus: 1,
        memory: 512,
        storage: 10,
        bandwidth: 100,
        price_hourly: "0.02",
        price_monthly: "9.50",
        locations: ["lab-1"],
      });
      assert.equal(plan.status, 201, plan.text);
      assert.equal(plan.body.price_monthly, "9.50");
      assert.deepEqual(plan.body.locations, ["lab-1"]);
      const listed = (await t.owner.get("/api/v1/plans/")).body.results.find(
        (p: Json) => p.id === plan.body.id,
      );
      assert.deepEqual(listed, plan.body);
      expectInvalid(
        await t.admin.post("/api/v1/admin/plans/", {
          ...plan.body,
          id: undefined,
          currency: undefined,
          locations: ["nowhere"],
        }),
        "locations",
      );

      expectInvalid(await t.owner.post(SERVERS, { ...SAMPLE_CREATE, location: "lab-1" }), "plan_id");
      // The new location's embedded host comes with the next heartbeat; this one is not left to the timer.
      await t.app.engine.embeddedHosts?.beat();
      const created = await t.owner.post(SERVERS, {
        name: "lab-server",
        plan_id: plan.body.id,
        os_id: os.body.id,
        location: "lab-1",
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.location, "lab-1");
      assert.deepEqual(created.body.plan, {
        id: plan.body.id,
        name: "Lab VPS",
        vcpus: 1,
        memory: 512,
        storage: 10,
        bandwidth: 100,
      });
      assert.deepEqual(created.body.os, { id: os.body.id, name: "Alpine 3.20" });
      assert.equal(created.body.hostname, null);
      assert.equal(created.body.backups_enabled, false);
      const active = await waitForStatus(t.owner, created.body.id, "active");
      assert.match(active.ip_address, /^198\.18\.0\.[1-6]$/);
      assert.equal(active.ipv6_address, null, "the location has no IPv6 pool");
      const inLab = await t.owner.get(`${SERVERS}?location=lab-1`);
      assert.deepEqual(
        inLab.body.results.map((s: Json) => s.id),
        [created.body.id],
      );
    });

    it("rejects catalogue bodies with wrong types or unknown fields", async () => {
      expectInvalid(await t.admin.post("/api/v1/admin/locations/", { code: "x", name: "X" }), "country");
      expectInvalid(
        await t.admin.post("/api/v1/admin/plans/", {
          name: "Bad",
          vcpus: "2",
          memory: 1024,
          storage: 10,
          bandwidth: 1,
          price_hourly: "0.01",
          price_monthly: "1.00",
          locations: [],
          color: "red",
        }),
        "vcpus",
        "color",
      );
    });
  });
});
