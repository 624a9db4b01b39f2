import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { startAppWithReceiver } from "../support/app-with-receiver.ts";
import { eventually } from "../support/client.ts";
import type { TestApp } from "../support/test-app.ts";
import type { WebhookReceiver } from "../support/webhook-receiver.ts";

type Verify = (secret: string, headers: Record<string, unknown>, rawBody: string, now?: number) => boolean;

/** The README's verifyWebhook, as written there: the block is run, not a copy of it, so the two cannot drift. */
async function readmeVerifier(dir: string): Promise<Verify> {
  const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
  const block = /^( *)```js\n((?:(?!```)[\s\S])*?export function verifyWebhook[\s\S]*?)^\1```$/m.exec(readme);
  assert.ok(block?.[2], "README has a js block exporting verifyWebhook");
  const indent = new RegExp(`^${block[1]}`, "gm");
  const file = join(dir, "verify-webhook.mjs");
  writeFileSync(file, block[2].replace(indent, ""));
  const module = (await import(pathToFileURL(file).href)) as { verifyWebhook: Verify };
  return module.verifyWebhook;
}

describe("README: verifying a webhook in Node", () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "readme-verify-"));
    ({ t, receiver } = await startAppWithReceiver());
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("accepts a real delivery, and refuses one altered, signed with another secret, or replayed late", async () => {
    const verifyWebhook = await readmeVerifier(dir);
    const made = await t.owner.post("/api/v1/webhooks/", {
      url: receiver.url("/verify"),
      events: ["balance.low"],
    });
    assert.equal(made.status, 201, made.text);
    await t.owner.post(`/api/v1/webhooks/${made.body.id}/ping/`);
    const hook = await eventually(async () => receiver.to("/verify")[0]);
    const secret: string = made.body.secret;

    assert.equal(verifyWebhook(secret, hook.headers, hook.body), true);
    assert.equal(verifyWebhook(secret, hook.headers, hook.body.replace('"ping"', '"pong"')), false);
    const other = await t.owner.post(`/api/v1/webhooks/${made.body.id}/rotate_secret/`);
    assert.equal(verifyWebhook(other.body.secret, hook.headers, hook.body), false);
    const sentAt = Number(hook.headers["webhook-timestamp"]) * 1000;
    assert.equal(verifyWebhook(secret, hook.headers, hook.body, sentAt + 299_000), true);
    assert.equal(
      verifyWebhook(secret, hook.headers, hook.body, sentAt + 301_000),
      false,
      "too old: a replay",
    );
    const moved = {
      ...hook.headers,
      "webhook-timestamp": String(Number(hook.headers["webhook-timestamp"]) + 1),
    };
    assert.equal(verifyWebhook(secret, moved, hook.body), false, "the timestamp is signed");
    assert.equal(
      verifyWebhook(secret, { ...hook.headers, "webhook-signature": undefined }, hook.body),
      false,
    );
  });
});
