import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeKeyPair } from "../support/ssh.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { signedInVisitor } from "../support/web-session.ts";

describe("web console: SSH keys (raw HTTP)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it("adds a key that the API then lists, with the fingerprint shown on the page", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    const empty = await browser.get("/ssh-keys");
    assert.equal(empty.status, 200);
    assert.match(await empty.text(), /No SSH keys yet/);

    const { publicKey } = await makeKeyPair();
    const added = await browser.post("/ssh-keys", { name: "laptop <main>", public_key: `${publicKey}\n` });
    assert.equal(added.status, 303);
    assert.equal(added.headers.get("location"), "/ssh-keys");

    const listed = await customer.get("/api/v1/ssh-keys/");
    assert.equal(listed.body.count, 1);
    const [key] = listed.body.results;
    assert.equal(key.name, "laptop <main>");
    const page = await (await browser.get("/ssh-keys")).text();
    assert.ok(page.includes(key.fingerprint), page);
    assert.match(page, /laptop &lt;main&gt;/, "the name is escaped");
    assert.doesNotMatch(page, /No SSH keys yet/);
  });

  it("shows the service's reason for a refused key, keeping what was typed", async () => {
    const browser = await signedInVisitor(t, (await t.newAccount()).accountId);
    await browser.get("/ssh-keys");
    const garbage = await browser.post("/ssh-keys", { name: "work", public_key: "ssh-dss AAAAB3NzaC1kc3M=" });
    assert.equal(garbage.status, 400);
    const text = await garbage.text();
    assert.match(
      text,
      /role="alert">public_key: Unsupported key type &quot;ssh-dss&quot;.*\(invalid_input\)/,
    );
    assert.match(text, /value="work"/);
    assert.match(text, /aria-invalid="true">ssh-dss AAAAB3NzaC1kc3M=<\/textarea>/);

    const noName = await browser.post("/ssh-keys", {
      name: "  ",
      public_key: (await makeKeyPair()).publicKey,
    });
    assert.equal(noName.status, 400);
    assert.match(await noName.text(), /name: Must be 1-100 characters\./);

    const { publicKey } = await makeKeyPair();
    assert.equal((await browser.post("/ssh-keys", { name: "first", public_key: publicKey })).status, 303);
    const twice = await browser.post("/ssh-keys", { name: "second", public_key: publicKey });
    assert.equal(twice.status, 409);
    assert.match(
      await twice.text(),
      /already registered as SSH key \d+ \(&quot;first&quot;\).*\(ssh_key_exists\)/,
    );
  });

  it("deletes a key after a confirmation page, and only with the form's CSRF token", async () => {
    const customer = await t.newAccount();
    const browser = await signedInVisitor(t, customer.accountId);
    const key = (
      await customer.post("/api/v1/ssh-keys/", { name: "old", public_key: (await makeKeyPair()).publicKey })
    ).body;

    const confirm = await browser.get(`/ssh-keys/${key.id}/delete`);
    assert.equal(confirm.status, 200);
    const text = await confirm.text();
    assert.match(text, /Delete the SSH key “old”\?/);
    assert.ok(text.includes(key.fingerprint));
    assert.equal((await customer.get(`/api/v1/ssh-keys/${key.id}/`)).status, 200, "asking deletes nothing");

    assert.equal((await browser.post(`/ssh-keys/${key.id}/delete`, { _csrf: "forged" })).status, 403);
    assert.equal((await customer.get(`/api/v1/ssh-keys/${key.id}/`)).status, 200);

    const deleted = await browser.post(`/ssh-keys/${key.id}/delete`, {});
    assert.equal(deleted.status, 303);
    assert.equal(deleted.headers.get("location"), "/ssh-keys");
    assert.equal((await customer.get(`/api/v1/ssh-keys/${key.id}/`)).status, 404);
    assert.equal((await browser.post(`/ssh-keys/${key.id}/delete`, {})).status, 404, "gone already");
  });

  it("another account's key is a 404 to look at or to delete, and is never listed", async () => {
    const alice = await t.newAccount();
    const key = (
      await alice.post("/api/v1/ssh-keys/", {
        name: "alice-only-key",
        public_key: (await makeKeyPair()).publicKey,
      })
    ).body;
    const bob = await signedInVisitor(t, (await t.newAccount()).accountId);
    assert.doesNotMatch(await (await bob.get("/ssh-keys")).text(), /alice-only-key/);
    const look = await bob.get(`/ssh-keys/${key.id}/delete`);
    assert.equal(look.status, 404);
    assert.match(await look.text(), /SSH key not found/);
    assert.equal((await bob.post(`/ssh-keys/${key.id}/delete`, {})).status, 404);
    assert.equal((await alice.get(`/api/v1/ssh-keys/${key.id}/`)).status, 200, "alice still has it");
    for (const id of ["0x1", "01", "abc"])
      assert.equal((await bob.get(`/ssh-keys/${id}/delete`)).status, 404, id);
  });

  it("sends a browser that is not signed in to the sign-in page", async () => {
    const res = await fetch(`${t.url}/ssh-keys`, { redirect: "manual" });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/sign-in");
  });
});
