import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandCidr, formatIpv6 } from "../../src/domain/ip-range.ts";
import { formatMoney, parseMoney, parseSignedMoney, withinMoneyLimit } from "../../src/domain/money.ts";
import { hostnameProblem, serverNameProblem } from "../../src/domain/names.ts";

describe("money", () => {
  it("reads decimal strings into cents and writes them back with two decimals", () => {
    assert.equal(parseMoney("12.5"), 1250);
    assert.equal(parseMoney("0.03"), 3);
    assert.equal(parseMoney("100"), 10000);
    assert.equal(formatMoney(1250), "12.50");
    assert.equal(formatMoney(-5), "-0.05");
  });
  it("refuses what is not an amount", () => {
    for (const bad of ["", "1.234", "-1", "1e3", "abc", " 1", "0x10"])
      assert.equal(parseMoney(bad), null, bad);
  });
  it("reads a signed amount, and bounds amounts and balances at ±1,000,000,000.00", () => {
    assert.equal(parseSignedMoney("-5.5"), -550);
    assert.equal(parseSignedMoney("5.50"), 550);
    assert.equal(parseSignedMoney("--5"), null);
    assert.ok(withinMoneyLimit(100_000_000_000));
    assert.ok(withinMoneyLimit(-100_000_000_000));
    assert.ok(!withinMoneyLimit(100_000_000_001));
    assert.ok(!withinMoneyLimit(-100_000_000_001));
  });
});

describe("names", () => {
  it("accepts server names of letters, digits and inner hyphens up to 63 characters", () => {
    for (const ok of ["web-server-01", "a", "A1", "x".repeat(63)])
      assert.equal(serverNameProblem(ok), null, ok);
    for (const bad of ["", "-web", "web-", "web_01", "web 01", "x".repeat(64), "wéb"]) {
      assert.notEqual(serverNameProblem(bad), null, bad);
    }
  });
  it("accepts fully qualified host names only", () => {
    for (const ok of ["web01.example.com", "a.b", "xn--bcher-kva.example"])
      assert.equal(hostnameProblem(ok), null, ok);
    for (const bad of [
      "web01",
      "web01.",
      ".example.com",
      "a..b",
      "-a.example.com",
      "a.123",
      `${"a".repeat(64)}.com`,
    ]) {
      assert.notEqual(hostnameProblem(bad), null, bad);
    }
    assert.notEqual(hostnameProblem(`${"abcdefghi.".repeat(26)}com`), null, "over 253 characters");
  });
});

describe("address blocks", () => {
  it("expands an IPv4 block without its network and broadcast addresses", () => {
    assert.deepEqual(expandCidr("198.18.0.0/30", 100), {
      family: 4,
      cidr: "198.18.0.0/30",
      addresses: ["198.18.0.1", "198.18.0.2"],
    });
    assert.deepEqual(expandCidr("198.18.0.7/32", 100), {
      family: 4,
      cidr: "198.18.0.7/32",
      addresses: ["198.18.0.7"],
    });
    // The block as written is normalised to its network address.
    assert.equal((expandCidr("198.18.0.5/30", 100) as { cidr: string }).cidr, "198.18.0.4/30");
  });
  it("expands an IPv6 block into RFC 5952 text", () => {
    assert.deepEqual(expandCidr("2001:db8:5::/126", 100), {
      family: 6,
      cidr: "2001:db8:5::/126",
      addresses: ["2001:db8:5::1", "2001:db8:5::2", "2001:db8:5::3"],
    });
    assert.equal(formatIpv6(0x20010db8000000000000000000000001n), "2001:db8::1");
  });
  it("refuses malformed and oversized blocks", () => {
    assert.ok("error" in expandCidr("198.18.0.0/8", 65_536));
    assert.ok("error" in expandCidr("198.18.0.0", 10));
    assert.ok("error" in expandCidr("not-an-ip/24", 10));
    assert.ok("error" in expandCidr("2001:db8::/33", 10));
  });
});
