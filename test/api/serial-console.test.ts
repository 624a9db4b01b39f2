import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { openConsole, refusal } from "../support/console-client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { expectError } from "./expect-error.ts";

const SERVERS = "/api/v1/servers/";

describe("serial console (sim driver)", () => {
  let t: TestApp;
  let clock: SettableClock;
  let active: number;
  before(async () => {
    clock = new SettableClock();
    t = await startTestApp({ VPS_CONSOLE_LIMIT: "2" }, clock);
    const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: "console-1" });
    assert.equal(res.status, 201, res.text);
    active = res.body.id;
    await waitForStatus(t.owner, active, "active");
  });
  after(() => t.close());

  const ticketFor = async (id: number) => {
    const res = await t.owner.post(`${SERVERS}${id}/console/`);
    assert.equal(res.status, 201, res.text);
    return res.body as { ticket: string; url: string; expires_at: string };
  };

  it("opens with a ticket: the WebSocket shows the login prompt and echoes what is typed", async () => {
    const { url, ticket, expires_at } = await ticketFor(active);
    assert.equal(url, `${t.url.replace("http", "ws")}/api/v1/console/${ticket}`);
    assert.ok(Date.parse(expires_at) > clock.now().getTime());
    const console = await openConsole(url);
    await console.until(/login: $/);
    const mark = console.screen.length;
    console.type("root\r");
    await console.until(/root\r\nPassword: $/, 10_000, mark);
    console.close();
  });

  it("spends the ticket once: a second connection with it is refused", async () => {
    const { url } = await ticketFor(active);
    const console = await openConsole(url);
    await console.until(/login:/);
    assert.deepEqual(await refusal(url), { status: 401, code: "console_ticket_invalid" });
    console.close();
  });

  it("refuses an expired ticket and one never issued", async () => {
    const { url } = await ticketFor(active);
    clock.advance(31_000);
    try {
      assert.deepEqual(await refusal(url), { status: 401, code: "console_ticket_invalid" });
    } finally {
      clock.advance(-31_000);
    }
    const forged = `${t.url.replace("http", "ws")}/api/v1/console/vpsc_${"A".repeat(40)}`;
    assert.deepEqual(await refusal(forged), { status: 401, code: "console_ticket_invalid" });
  });

  it("answers a plain request to the console URL with 426, leaving the ticket unspent", async () => {
    const { url } = await ticketFor(active);
    const res = await t.anonymous.get(new URL(url).pathname);
    expectError(res, 426, "upgrade_required");
    const console = await openConsole(url);
    await console.until(/login:/);
    console.close();
  });

  it("gives no ticket for another account's server, nor without a token", async () => {
    const other = await t.newAccount();
    expectError(await other.post(`${SERVERS}${active}/console/`), 404, "not_found");
    expectError(await t.anonymous.post(`${SERVERS}${active}/console/`), 401, "unauthorized");
  });

  it("refuses a server that is not running with 409 server_not_running", async () => {
    const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: "console-stopped" });
    const id = res.body.id as number;
    await waitForStatus(t.owner, id, "active");
    assert.equal((await t.owner.post(`${SERVERS}${id}/stop/`)).status, 200);
    await waitForStatus(t.owner, id, "stopped");
    expectError(await t.owner.post(`${SERVERS}${id}/console/`), 409, "server_not_running");
  });

  it("refuses a ticket whose server stopped after it was issued", async () => {
    const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: "console-stops" });
    const id = res.body.id as number;
    await waitForStatus(t.owner, id, "active");
    const { url } = await ticketFor(id);
    assert.equal((await t.owner.post(`${SERVERS}${id}/stop/`)).status, 200);
    await waitForStatus(t.owner, id, "stopped");
    assert.deepEqual(await refusal(url), { status: 409, code: "server_not_running" });
  });

  it("holds a server to VPS_CONSOLE_LIMIT consoles at once, and frees a place when one closes", async () => {
    const first = await openConsole((await ticketFor(active)).url);
    // Two tickets for the last place: the second one's connection is refused.
    const [last, extra] = [await ticketFor(active), await ticketFor(active)];
    const second = await openConsole(last.url);
    await Promise.all([first.until(/login:/), second.until(/login:/)]);
    assert.deepEqual(await refusal(extra.url), { status: 409, code: "console_limit_reached" });
    // With no place left, no ticket is issued: a client learns why before it connects.
    expectError(await t.owner.post(`${SERVERS}${active}/console/`), 409, "console_limit_reached");
    first.close();
    await first.closed;
    // The service sees the close a moment after the client does: each try has a ticket of its own.
    const third = await eventually(
      async () => openConsole((await ticketFor(active)).url).catch(() => undefined),
      10_000,
      "a console after one closed",
    );
    await third.until(/login:/);
    third.close();
    second.close();
  });
});

describe("serial console left idle", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ VPS_CONSOLE_IDLE_MS: "1000" });
  });
  after(() => t.close());

  it("is closed by the service (code 4000) once nothing crossed it for VPS_CONSOLE_IDLE_MS", async () => {
    const res = await t.owner.post(SERVERS, { ...SAMPLE_CREATE, name: "console-idle" });
    await waitForStatus(t.owner, res.body.id, "active");
    const ticket = await t.owner.post(`${SERVERS}${res.body.id}/console/`);
    const console = await openConsole(ticket.body.url);
    await console.until(/login:/);
    assert.equal(await console.closed, 4000);
  });
});
