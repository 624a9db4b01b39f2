import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { backupOffsetMs, nextBackupAt, parseBackupWindow } from "../../src/domain/backup-schedule.ts";
import { isoAt } from "../../src/domain/clock.ts";
import { BackupScheduler } from "../../src/engine/backup-scheduler.ts";
import { evictOldBackups } from "../../src/engine/evict-old-backups.ts";
import { queueImageCopy } from "../../src/engine/queue-image-copy.ts";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import { expectError } from "../api/expect-error.ts";
import { SAMPLE_CREATE, waitForStatus } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const HOUR = 3_600_000;
const WINDOW = parseBackupWindow("01:00-05:00");

describe("the backup window and each server's offset", () => {
  it("parses windows, also past midnight, and refuses malformed or empty ones", () => {
    assert.deepEqual(parseBackupWindow("01:00-05:00"), { startMinute: 60, lengthMinutes: 240 });
    assert.deepEqual(parseBackupWindow("23:30-00:30"), { startMinute: 1410, lengthMinutes: 60 });
    for (const bad of ["1:00-5:00", "01:00-01:00", "25:00-01:00", "01:00"])
      assert.equal(parseBackupWindow(bad), null);
  });

  it("puts each server at a stable slot inside the window, spread over it, once a day", () => {
    assert.ok(WINDOW);
    const slots = new Set<number>();
    for (let id = 1; id <= 200; id++) {
      const at = nextBackupAt(id, WINDOW, "2030-03-10T12:00:00.000Z");
      assert.equal(at, nextBackupAt(id, WINDOW, "2030-03-10T12:00:00.000Z"), "stable");
      const minute = new Date(at).getUTCHours() * 60 + new Date(at).getUTCMinutes();
      assert.ok(minute >= 60 && minute < 300, `${at} is in 01:00-05:00`);
      assert.equal(at.slice(0, 10), "2030-03-11");
      assert.equal(
        nextBackupAt(id, WINDOW, at),
        new Date(Date.parse(at) + 24 * HOUR).toISOString(),
        "next day",
      );
      slots.add(backupOffsetMs(id, WINDOW));
    }
    assert.ok(slots.size > 150, `200 servers over 240 minutes take ${slots.size} distinct minutes`);
  });
});

describe("daily backups", () => {
  let t: TestApp;
  const clock = new SettableClock();
  let storeDir: string;
  let store: DirectoryImageStore;
  before(async () => {
    t = await startTestApp({ VPS_BACKUP_KEEP: "3" }, clock);
    storeDir = mkdtempSync(join(tmpdir(), "vps-backups-store-"));
    store = new DirectoryImageStore(storeDir);
  });
  after(async () => {
    await t.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  const repos = () => t.app.services.repos;
  const scheduler = (keep = 3) =>
    new BackupScheduler({
      repos: repos(),
      clock,
      log: pino({ level: "silent" }),
      notifier: { wake() {} },
      intervalMs: 60_000,
      window: t.app.services.config.backupWindow,
      keep,
      maxAttempts: 1,
      store,
    });
  const server = async (id: number) => {
    const row = await repos().servers.findById(id);
    assert.ok(row);
    return row;
  };
  const backupsOf = async (id: number) =>
    repos()
      .db.selectFrom("images")
      .selectAll()
      .where("server_id", "=", id)
      .where("type", "=", "backup")
      .orderBy("id")
      .execute();
  const makeDue = (id: number) =>
    repos()
      .db.updateTable("servers")
      .set({ backup_next_at: new Date(clock.now().getTime() - 60_000).toISOString() })
      .where("id", "=", id)
      .execute();
  /** An image of the server made as the image steps would: queued, its bytes in the store, available. */
  const madeImage = async (serverId: number, type: "backup" | "snapshot") => {
    const now = isoAt(clock);
    const of = await server(serverId);
    const { image } = await repos().transaction((tx) =>
      queueImageCopy(tx, { server: of, type, name: null, maxAttempts: 1, now }),
    );
    const put = await store.put(image.store_key, Readable.from([Buffer.from(`disk ${image.id}`)]), {
      signal: AbortSignal.timeout(10_000),
    });
    await repos().images.markAvailable(
      image.id,
      { sizeBytes: put.size, sha256: put.sha256, consistency: "crash" },
      now,
    );
    return image;
  };

  it("schedules a server with backups on in the window and clears the schedule when they are turned off", async () => {
    const api = await t.newAccount();
    const on = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "on" });
    const off = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "off", backups_enabled: false });
    const next = (await server(on.body.id)).backup_next_at;
    assert.ok(next && Date.parse(next) > clock.now().getTime());
    assert.equal(next, nextBackupAt(on.body.id, t.app.services.config.backupWindow, isoAt(clock)));
    assert.equal((await server(off.body.id)).backup_next_at, null);

    assert.equal((await api.patch(`/api/v1/servers/${on.body.id}/`, { backups_enabled: false })).status, 200);
    assert.equal((await server(on.body.id)).backup_next_at, null);
    const put = await api.put(`/api/v1/servers/${off.body.id}/`, {
      name: "off",
      hostname: "off.example.com",
      backups_enabled: true,
    });
    assert.equal(put.status, 200);
    assert.equal(put.body.backups_enabled, true);
    assert.ok((await server(off.body.id)).backup_next_at);
  });

  it("queues one backup per due server per day, however many processes run the task", async () => {
    const api = await t.newAccount();
    const ids: number[] = [];
    for (const name of ["a", "b", "c"])
      ids.push((await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name })).body.id);
    for (const id of ids) await waitForStatus(api, id, "active");
    for (const id of ids) await makeDue(id);
    const [one, two] = await Promise.all([scheduler().runOnce(), scheduler().runOnce()]);
    assert.equal(one.queued + two.queued, 3, "one backup for each of the three servers");
    for (const id of ids) {
      const backups = await backupsOf(id);
      assert.equal(backups.length, 1);
      const op = await repos().operations.findById(backups[0]?.operation_id ?? 0);
      assert.equal(op?.kind, "backup");
      assert.equal(op?.image_id, backups[0]?.id);
      const next = (await server(id)).backup_next_at ?? "";
      assert.ok(Date.parse(next) > clock.now().getTime(), "the next one is at the next slot");
      assert.equal(next, nextBackupAt(id, t.app.services.config.backupWindow, isoAt(clock)));
    }
    assert.equal((await scheduler().runOnce()).queued, 0, "nothing more today");
  });

  it("skips the day of a server that is suspended or in error, and moves its schedule on", async () => {
    const api = await t.newAccount();
    const { body } = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    await waitForStatus(api, body.id, "active");
    await repos().db.updateTable("servers").set({ status: "error" }).where("id", "=", body.id).execute();
    await makeDue(body.id);
    const run = await scheduler().runOnce();
    assert.equal(run.skipped, 1);
    assert.equal((await backupsOf(body.id)).length, 0);
    assert.ok(Date.parse((await server(body.id)).backup_next_at ?? "") > clock.now().getTime());
  });

  it("takes a backup now only with backups on", async () => {
    const api = await t.newAccount();
    const on = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "on" });
    const off = await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "off", backups_enabled: false });
    await waitForStatus(api, on.body.id, "active");
    const now = await api.post(`/api/v1/servers/${on.body.id}/backup/`);
    assert.equal(now.status, 200, now.text);
    assert.equal(now.body.status, "success");
    assert.equal(now.body.server.id, on.body.id);
    const action = await api.get(`/api/v1/actions/${now.body.action_id}/`);
    assert.equal(action.body.command, "backup");
    assert.equal((await backupsOf(on.body.id)).length, 1);
    expectError(await api.post(`/api/v1/servers/${off.body.id}/backup/`), 400, "backups_disabled");
    const other = await t.newAccount();
    expectError(await other.post(`/api/v1/servers/${on.body.id}/backup/`), 404, "not_found");
  });

  it("keeps the newest backups, deletes the older ones and their bytes", async () => {
    const api = await t.newAccount();
    const { body } = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await madeImage(body.id, "backup"));
    const snapshot = await madeImage(body.id, "snapshot");
    // As the backup's settlement does when one becomes available.
    const keys = await repos().transaction((tx) => evictOldBackups(tx, body.id, 4, isoAt(clock)));
    assert.deepEqual(keys, [made[0]?.store_key]);
    // A lowered setting takes effect at the task's next run.
    const run = await scheduler(3).runOnce();
    assert.equal(run.evicted, 1);
    const live = (await backupsOf(body.id)).filter((b) => b.deleted_at === null).map((b) => b.id);
    assert.deepEqual(
      live,
      made.slice(2).map((b) => b.id),
    );
    for (const gone of made.slice(0, 2))
      assert.equal(await store.stat(gone.store_key), null, "bytes removed");
    for (const kept of made.slice(2)) assert.ok(await store.stat(kept.store_key));
    assert.ok(await store.stat(snapshot.store_key), "a snapshot is not a backup");
  });

  it("turning backups off deletes the server's backups; deleting a server deletes its backups, never its snapshots", async () => {
    const api = await t.newAccount();
    const a = (await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "a" })).body.id;
    const b = (await api.post("/api/v1/servers/", { ...SAMPLE_CREATE, name: "b" })).body.id;
    const aBackup = await madeImage(a, "backup");
    const aSnapshot = await madeImage(a, "snapshot");
    const bBackup = await madeImage(b, "backup");
    const bSnapshot = await madeImage(b, "snapshot");

    await api.patch(`/api/v1/servers/${a}/`, { backups_enabled: false });
    assert.ok((await repos().images.findById(aBackup.id))?.deleted_at);
    assert.equal((await repos().images.findById(aSnapshot.id))?.deleted_at, null);

    assert.equal((await api.delete(`/api/v1/servers/${b}/`)).status, 204);
    assert.ok((await repos().images.findById(bBackup.id))?.deleted_at);
    assert.equal((await repos().images.findById(bSnapshot.id))?.deleted_at, null);

    await scheduler().runOnce();
    assert.equal(await store.stat(aBackup.store_key), null);
    assert.equal(await store.stat(bBackup.store_key), null);
    assert.ok(await store.stat(bSnapshot.store_key), "the snapshot outlives its server");
  });
  it("sweeps bytes a crash left: deleted images not yet purged, and store objects no image wants", async () => {
    const api = await t.newAccount();
    const { body } = await api.post("/api/v1/servers/", SAMPLE_CREATE);
    const deleted = await madeImage(body.id, "backup");
    await repos().images.markDeleted(deleted.id, isoAt(clock)); // committed, then the process died
    const stray = "accounts/999/backups/left-behind";
    await store.put(stray, Readable.from([Buffer.from("x")]), { signal: AbortSignal.timeout(10_000) });
    const run = await scheduler().runOnce();
    assert.ok(run.purged >= 1);
    assert.equal(await store.stat(deleted.store_key), null);
    assert.ok((await repos().images.findById(deleted.id))?.purged_at);
    assert.ok(await store.stat(stray), "a new object may be an upload under way");
    // An upload a crash cut short, two hours ago.
    const cut = join(storeDir, "accounts", "999", "backups", ".cut-short.1.part");
    writeFileSync(cut, "half an upload");
    const twoHoursAgo = new Date(Date.now() - 2 * HOUR);
    utimesSync(cut, twoHoursAgo, twoHoursAgo);
    const sweeper = scheduler();
    // Last in this suite: the embedded host looks down once its beats are two hours old.
    clock.advance(2 * HOUR);
    await sweeper.runOnce();
    assert.equal(await store.stat(stray), null, "an hour old with no image: removed");
    assert.equal(existsSync(cut), false, "the store's own leftovers are swept too");
  });
});
