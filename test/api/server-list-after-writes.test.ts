import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { type Client, type Json, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const SERVERS = "/api/v1/servers/";
const PAGE = `${SERVERS}?status=active&location=us-west&page_size=2`;

// A page read again is the same page only while nothing has changed: every write shows in the next read, whoever
// made it, and one account's page is never another's.
describe("a page of servers read again after writes", () => {
  let t: TestApp;
  let other: OpenDatabase;
  let mine: Client & { accountId: number };
  let theirs: Client & { accountId: number };
  const ids: number[] = [];

  before(async () => {
    t = await startTestApp();
    other = await openDatabase(t.database.url, 2);
    mine = await t.newAccount("50.00");
    theirs = await t.newAccount("50.00");
    for (const [i, owner] of [mine, mine, theirs].entries()) {
      const res = await owner.post(SERVERS, { ...SAMPLE_CREATE, name: `page-${i}`, location: "us-west" });
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.id);
      await waitForStatus(owner, res.body.id, "active");
    }
  });
  after(async () => {
    await other.close();
    await t.close();
  });

  const names = async (owner: Client) => {
    const res = await owner.get(PAGE);
    assert.equal(res.status, 200, res.text);
    return res.body.results.map((s: Json) => s.name);
  };

  it("shows a change this process made", async () => {
    assert.deepEqual(await names(mine), ["page-0", "page-1"]);
    const renamed = await mine.patch(`${SERVERS}${ids[0]}/`, { name: "renamed-here" });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual(await names(mine), ["renamed-here", "page-1"]);
  });

  it("shows a change another process committed", async () => {
    assert.deepEqual(await names(mine), ["renamed-here", "page-1"]);
    await other.db
      .updateTable("servers")
      .set({ name: "renamed-there" })
      .where("id", "=", ids[1] as number)
      .execute();
    assert.deepEqual(await names(mine), ["renamed-here", "renamed-there"]);
  });

  it("shows an address another process gave a server, which changes no row of its own", async () => {
    const before = await mine.get(PAGE);
    const shown = before.body.results[0].ip_address;
    assert.match(shown, /^203\.0\.113\.\d+$/);
    await other.db
      .updateTable("ip_addresses")
      .set({ address: "198.51.100.7" })
      .where("address", "=", shown)
      .execute();
    const after = await mine.get(PAGE);
    assert.equal(after.body.results[0].ip_address, "198.51.100.7");
  });

  it("shows a status changed by another process, with the page's exact count", async () => {
    assert.equal((await mine.get(PAGE)).body.count, 2);
    await other.db
      .updateTable("servers")
      .set({ status: "stopped" })
      .where("id", "=", ids[0] as number)
      .execute();
    const res = await mine.get(PAGE);
    assert.equal(res.body.count, 1);
    assert.deepEqual(
      res.body.results.map((s: Json) => s.id),
      [ids[1]],
    );
  });

  it("answers each account its own page, read in turn", async () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await names(theirs), ["page-2"]);
      assert.deepEqual(await names(mine), ["renamed-there"]);
    }
  });
});
