import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { insertServers } from "../support/insert-servers.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor, type WebVisitor } from "../support/web-session.ts";

/** The servers' names in a list page or its live copy, in the order shown. */
function namesIn(text: string): string[] {
  return [...text.matchAll(/<a href="\/servers\/\d+">([^<]+)<\/a>/g)].map((m) => m[1] as string);
}
const link = (text: string, rel: "prev" | "next") =>
  new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(text)?.[1]?.replaceAll("&amp;", "&");

describe("web console: the servers list, a page at a time (raw HTTP)", () => {
  let t: TestApp;
  let visitor: WebVisitor;
  /** Ours: mine-0 … mine-249, oldest first; another account's theirs-0 … theirs-249 were made between them. */
  let mine: { id: number; account_id: number }[];
  before(async () => {
    t = await startTestApp();
    const me = await t.newAccount();
    const other = await t.newAccount();
    const db = t.database.db;
    mine = [];
    for (let i = 0; i < 5; i++) {
      mine.push(...(await insertServers(db, 50, () => me.accountId, `mine-${i}`)));
      await insertServers(db, 50, () => other.accountId, `theirs-${i}`);
    }
    visitor = await signedInVisitor(t, me.accountId);
  });
  after(() => t.close());

  const named = (k: number) => `mine-${Math.floor(k / 50)}-${k % 50}`;
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => named(from + k));

  it("shows the first hundred servers, where they are in the list, and a link to the next page", async () => {
    const res = await visitor.get("/servers");
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.deepEqual(namesIn(text), range(0, 100));
    assert.match(text, /Showing 1–100 of 250/);
    assert.equal(link(text, "prev"), undefined);
    assert.equal(link(text, "next"), "/servers?page=2");
  });

  it("reaches every server of the account, once each, by following the next links", async () => {
    const seen: string[] = [];
    let path: string | undefined = "/servers";
    const places: string[] = [];
    while (path) {
      const text = await (await visitor.get(path)).text();
      seen.push(...namesIn(text));
      places.push(/Showing [^<]+/.exec(text)?.[0] ?? "");
      path = link(text, "next");
    }
    assert.deepEqual(seen, range(0, 250));
    assert.deepEqual(places, ["Showing 1–100 of 250", "Showing 101–200 of 250", "Showing 201–250 of 250"]);
    const second = await (await visitor.get("/servers?page=2")).text();
    assert.equal(link(second, "prev"), "/servers?page=1");
    assert.equal(link(second, "next"), "/servers?page=3");
  });

  it("takes a page size as the API does and keeps it in the links", async () => {
    const text = await (await visitor.get("/servers?page=2&page_size=30")).text();
    assert.deepEqual(namesIn(text), range(30, 60));
    assert.match(text, /Showing 31–60 of 250/);
    assert.equal(link(text, "prev"), "/servers?page=1&page_size=30");
    assert.equal(link(text, "next"), "/servers?page=3&page_size=30");
  });

  it("the live refresh reads the page shown, and shows a change on it", async () => {
    const page = await (await visitor.get("/servers?page=2&page_size=30")).text();
    const refresh = /hx-get="([^"]+)"/.exec(page)?.[1]?.replaceAll("&amp;", "&") ?? "";
    assert.ok(refresh?.startsWith("/servers/rows?"), refresh);
    const target = mine[45];
    assert.ok(target);
    await t.database.db
      .updateTable("servers")
      .set({ status: "suspended" })
      .where("id", "=", target.id)
      .execute();
    const res = await visitor.get(refresh);
    assert.equal(res.status, 200);
    const rows = await res.text();
    assert.deepEqual(namesIn(rows), range(30, 60));
    assert.match(rows, new RegExp(`data-server-id="${target.id}">[^]*?data-status="suspended"`));
    assert.match(rows, /Showing 31–60 of 250/);
  });

  it("the live refresh sends nothing while the page shown is unchanged, and the page again once it changed", async () => {
    const page = await (await visitor.get("/servers?page=3")).text();
    const refresh = /hx-get="([^"]+)"/.exec(page)?.[1]?.replaceAll("&amp;", "&") ?? "";
    for (let i = 0; i < 2; i++) {
      const res = await visitor.get(refresh);
      assert.equal(res.status, 204);
      assert.equal(await res.text(), "");
    }
    const target = mine[210];
    assert.ok(target);
    await t.database.db.updateTable("servers").set({ status: "error" }).where("id", "=", target.id).execute();
    const changed = await visitor.get(refresh);
    assert.equal(changed.status, 200);
    const rows = await changed.text();
    assert.match(rows, new RegExp(`data-server-id="${target.id}">[^]*?data-status="error"`));
    const next = /hx-get="([^"]+)"/.exec(rows)?.[1]?.replaceAll("&amp;", "&") ?? "";
    assert.notEqual(next, refresh, "the new copy asks with the digest of what it shows");
    assert.equal((await visitor.get(next)).status, 204);
  });

  it("a page past the last one shows no servers and links back to the last page", async () => {
    const res = await visitor.get("/servers?page=9");
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.deepEqual(namesIn(text), []);
    assert.match(text, /Page 9 is past the last page \(3\) of 250/);
    assert.equal(link(text, "prev"), "/servers?page=3");
    assert.equal(link(text, "next"), undefined);
  });

  it("refuses a page or a page size the API refuses, with a 400", async () => {
    for (const query of ["page=0", "page=abc", "page=1.5", "page_size=0", "page_size=501", "page=-1"]) {
      for (const path of ["/servers", "/servers/rows"]) {
        const res = await visitor.get(`${path}?${query}`);
        assert.equal(res.status, 400, `${path}?${query}`);
        assert.doesNotMatch(await res.text(), /mine-/);
      }
    }
  });

  it("an account without servers is told how to make one, with no pages", async () => {
    const empty = await signedInVisitor(t, (await t.newAccount()).accountId);
    const text = await (await empty.get("/servers")).text();
    assert.match(text, /No servers yet/);
    assert.doesNotMatch(text, /Showing|rel="next"/);
  });
});
