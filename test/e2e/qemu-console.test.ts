import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { browserSkip, launchBrowser } from "../support/browser.ts";
import { terminalShows } from "../support/browser-terminal.ts";
import { type Client, client, eventually, waitForStatus } from "../support/client.ts";
import { type ConsoleClient, openConsole } from "../support/console-client.ts";
import { qemuTestImage } from "../support/qemu-test-image.ts";
import { type SpawnedServer, spawnServer } from "../support/spawned-server.ts";
import { dropDatabase, freshDatabaseUrl } from "../support/test-database.ts";

const TOKEN = "qemu-console-token-0123456789abcdef";
const ADMIN = "qemu-console-admin-0123456789abcdef";
const image = qemuTestImage();
/** The bootstrap account, the first on a fresh database. */
const OWNER = 1;

/**
 * A real VM's serial console through the API, under TCG: the WebSocket shows the test image's getty prompt on
 * ttyS0, a name typed there reaches the guest (its login echoes it and refuses root, whose password is locked), and
 * the serial log still records what the guest wrote; then the same guest's prompt in the web console's terminal.
 */
describe("a real VM's serial console (qemu driver)", { skip: image.skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "vps-qemu-console-"));
  const env = {
    DATABASE_URL: "",
    VPS_BOOTSTRAP_TOKEN: TOKEN,
    VPS_ADMIN_TOKEN: ADMIN,
    VPS_DRIVER: "qemu",
    VPS_QEMU_ACCEL: "tcg",
    VPS_QEMU_DIR: join(dir, "vms"),
    VPS_QEMU_IMAGE_DIR: image.dir,
    VPS_POWER_SYNC_MS: "2000",
  };
  let server: SpawnedServer;
  let api: Client;
  let id = 0;
  let console: ConsoleClient | undefined;
  const vmDir = () => join(env.VPS_QEMU_DIR, String(id));

  before(async () => {
    env.DATABASE_URL = await freshDatabaseUrl(dir);
    server = await spawnServer(env);
    api = client(server.url, TOKEN);
  });

  after(async () => {
    console?.close();
    if (id && existsSync(join(vmDir(), "qemu.pid"))) {
      // Never leave a VM running behind a failed test.
      try {
        process.kill(Number(readFileSync(join(vmDir(), "qemu.pid"), "utf8")), "SIGKILL");
      } catch {}
    }
    server.child.kill("SIGTERM");
    await server.exited;
    await dropDatabase(env.DATABASE_URL);
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the guest's login prompt, and a name typed there reaches the guest's login", async () => {
    const os = await client(server.url, ADMIN).post("/api/v1/admin/os/", {
      name: "VPS test image",
      distribution: "busybox",
      version: "1",
      image: "vps-test.qcow2",
    });
    assert.equal(os.status, 201, os.text);
    const created = await api.post("/api/v1/servers/", {
      name: "console01",
      plan_id: 3,
      os_id: os.body.id,
      location: "us-west",
      hostname: "console01.example.com",
    });
    assert.equal(created.status, 201, created.text);
    id = created.body.id;
    await waitForStatus(api, id, "active", 120_000);

    const ticket = await api.post(`/api/v1/servers/${id}/console/`);
    assert.equal(ticket.status, 201, ticket.text);
    const open = await openConsole(ticket.body.url);
    console = open;
    // The prompt printed at boot came before the console connected; Enter on an empty name prints it again (the
    // guest may still be booting, so keep pressing until it answers).
    await eventually(
      async () => {
        open.type("\r");
        return open.until(/console01\S* login: $/, 3000).catch(() => undefined);
      },
      180_000,
      "the guest's login prompt",
    );
    const mark = open.screen.length;
    // root's password is locked in the test image: the guest's login refuses the name at once, naming it (boot
    // messages may still cut into the echo, so the refusal is what tells the name arrived).
    open.type("root\r");
    await open.until(/Login incorrect[\s\S]*invalid password for 'root' on 'ttyS0'/, 60_000, mark);
    assert.match(readFileSync(join(vmDir(), "console.log"), "utf8"), /login:/);
  });

  it("the web console's terminal in a browser shows the same guest's login prompt", {
    skip: browserSkip(),
  }, async () => {
    assert.ok(id, "the server booted in the test before");
    // One console for the browser: the API's is done.
    console?.close();
    const invitation = await client(server.url, ADMIN).post(`/api/v1/admin/accounts/${OWNER}/invitation/`);
    assert.equal(invitation.status, 201, invitation.text);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(invitation.body.url);
      await page.getByLabel("New password").fill("correct horse battery");
      await page.getByRole("button", { name: "Set the password and sign in" }).click();
      await page.waitForURL(`${server.url}/servers`);
      await page.goto(`${server.url}/servers/${id}/console`);
      await page.locator('#console-status[data-state="connected"]').waitFor({ timeout: 30_000 });
      await page.locator("#terminal").click();
      await eventually(
        async () => {
          await page.keyboard.press("Enter");
          return terminalShows(page, /console01\S* login:\s*$/, 3000).catch(() => undefined);
        },
        60_000,
        "the guest's login prompt in the browser",
      );
    } finally {
      await browser.close();
    }
  });
});
