import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startAppWithReceiver } from "../support/app-with-receiver.ts";
import { type Client, eventually, SAMPLE_CREATE } from "../support/client.ts";
import type { TestApp } from "../support/test-app.ts";
import type { WebhookReceiver } from "../support/webhook-receiver.ts";
import { expectError } from "./expect-error.ts";

const ACCOUNT = "/api/v1/account/";

describe("an account's low-balance threshold", { concurrency: true }, () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    ({ t, receiver } = await startAppWithReceiver({
      VPS_LOW_BALANCE_THRESHOLD: "5.00",
    }));
  });
  after(() => t?.close());

  it("follows the operator's default until the account sets its own, and again after null", async () => {
    const account = await t.newAccount();
    const other = await t.newAccount();
    const shown = await account.get(ACCOUNT);
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.low_balance_threshold, "5.00");
    assert.equal(shown.body.low_balance_threshold_source, "default");

    const set = await account.patch(ACCOUNT, { low_balance_threshold: "12.5" });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.low_balance_threshold, "12.50");
    assert.equal(set.body.low_balance_threshold_source, "account");
    assert.equal(set.body.balance, shown.body.balance);
    assert.equal((await account.get(ACCOUNT)).body.low_balance_threshold, "12.50");
    assert.equal((await account.patch(ACCOUNT, {})).body.low_balance_threshold, "12.50");

    const untouched = (await other.get(ACCOUNT)).body;
    assert.equal(untouched.low_balance_threshold, "5.00");
    assert.equal(untouched.low_balance_threshold_source, "default");

    const zero = await account.patch(ACCOUNT, { low_balance_threshold: "0" });
    assert.equal(zero.body.low_balance_threshold, "0.00");
    assert.equal(zero.body.low_balance_threshold_source, "account");

    const cleared = await account.patch(ACCOUNT, { low_balance_threshold: null });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.low_balance_threshold, "5.00");
    assert.equal(cleared.body.low_balance_threshold_source, "default");
  });

  it("refuses what is not an amount of at least 0.00 with a stable code, and keeps the threshold it had", async () => {
    const account = await t.newAccount();
    await account.patch(ACCOUNT, { low_balance_threshold: "7.00" });
    for (const bad of ["-1.00", "1.234", "ten", "", " 1.00", "1e3", 10]) {
      const res = await account.patch(ACCOUNT, { low_balance_threshold: bad });
      expectError(res, 400, "invalid_input", ["low_balance_threshold"]);
    }
    expectError(await account.patch(ACCOUNT, { threshold: "1.00" }), 400, "invalid_input");
    expectError(
      await account.patch(ACCOUNT, { low_balance_threshold: "999999999999.99" }),
      400,
      "amount_out_of_range",
      ["low_balance_threshold"],
    );
    assert.equal((await account.get(ACCOUNT)).body.low_balance_threshold, "7.00");
    expectError(await t.anonymous.patch(ACCOUNT, { low_balance_threshold: "1.00" }), 401, "unauthorized");
  });

  it("is shown to the operator and set by the operator through the admin API", async () => {
    const account = await t.newAccount();
    const path = `/api/v1/admin/accounts/${account.accountId}/`;
    const detail = await t.admin.get(path);
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.body.low_balance_threshold, "5.00");
    assert.equal(detail.body.low_balance_threshold_source, "default");

    const set = await t.admin.patch(path, { low_balance_threshold: "30.00" });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.low_balance_threshold, "30.00");
    assert.equal(set.body.operator, false);
    assert.equal((await account.get(ACCOUNT)).body.low_balance_threshold, "30.00");
    expectError(await t.admin.patch(path, { low_balance_threshold: "-5" }), 400, "invalid_input", [
      "low_balance_threshold",
    ]);
    expectError(
      await t.admin.patch("/api/v1/admin/accounts/999999/", { low_balance_threshold: "1.00" }),
      404,
      "not_found",
    );
    // A customer's token is no admin token.
    expectError(await account.patch(path, { low_balance_threshold: "1.00" }), 401, "unauthorized");
  });

  /** Brings the balance to `target` with a ledger entry, as an operator would: the balance stays the ledger's sum. */
  async function setBalance(account: Client & { accountId: number }, target: number): Promise<void> {
    const balance = Math.round(Number((await account.get(ACCOUNT)).body.balance) * 100);
    const delta = target - balance;
    if (delta === 0) return;
    const sign = delta < 0 ? "-" : "";
    const amount = `${sign}${Math.floor(Math.abs(delta) / 100)}.${String(Math.abs(delta) % 100).padStart(2, "0")}`;
    const res = await t.admin.post(`/api/v1/admin/accounts/${account.accountId}/credit/`, {
      amount,
      kind: "correction",
      reason: "Set up the test's balance",
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.balance, (target / 100).toFixed(2));
  }

  it("sends balance.low once, when a charge takes the balance below the account's own threshold", async () => {
    const own = await t.newAccount();
    const byDefault = await t.newAccount();
    assert.equal((await own.patch(ACCOUNT, { low_balance_threshold: "20.00" })).status, 200);
    const hooks = [];
    for (const [n, account] of [own, byDefault].entries()) {
      const path = `/low/${account.accountId}`;
      const hook = await account.post("/api/v1/webhooks/", {
        url: receiver.url(path),
        events: ["balance.low"],
      });
      assert.equal(hook.status, 201, hook.text);
      const server = await account.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: `low-${n}` });
      assert.equal(server.status, 201, server.text);
      // Just above 20.00, and two hours due: the first charge crosses the threshold, the second is below it already.
      await setBalance(account, 2001);
      const past = new Date(Date.now() - 2 * 3600_000 - 60_000).toISOString();
      await t.database.db
        .updateTable("servers")
        .set({ billed_until: past })
        .where("id", "=", server.body.id)
        .execute();
      hooks.push({ account, path, id: hook.body.id as number });
    }
    await t.app.engine.billing.runOnce();
    const [mine, theirs] = hooks;
    assert.ok(mine && theirs);

    const low = await eventually(async () =>
      receiver.to(mine.path).find((h) => h.json.type === "balance.low"),
    );
    assert.equal(low.json.data.threshold, "20.00");
    assert.equal(low.json.data.currency, "USD");
    const balance = (await own.get(ACCOUNT)).body.balance;
    assert.ok(Number(balance) < 20, balance);
    const deliveries = async (hook: typeof mine) =>
      (await hook.account.get(`/api/v1/webhooks/${hook.id}/deliveries/`)).body;
    assert.equal((await deliveries(mine)).count, 1, "told once, though two hours were charged below 20.00");

    // The same charges leave the other account far above the default 5.00: nothing to tell it.
    const theirBalance = Number((await byDefault.get(ACCOUNT)).body.balance);
    assert.ok(theirBalance < 20.01 && theirBalance >= 5, String(theirBalance));
    assert.equal((await deliveries(theirs)).count, 0);
    const checked = (await t.admin.get(`/api/v1/admin/accounts/${own.accountId}/`)).body;
    assert.equal(checked.ledger_sum, checked.balance);
  });
});
