// Daily backups: each server with backups on is backed up once a day inside the backup window (UTC), at an
// offset of its own derived from its id, so that a fleet's backups are spread over the window, not all at its start.

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/** A daily window, UTC: from `startMinute` of the day, `lengthMinutes` long (it may run past midnight). */
export interface BackupWindow {
  startMinute: number;
  lengthMinutes: number;
}

/** "01:00-05:00" -> {60, 240}; "23:00-01:00" runs past midnight; null when malformed or empty. */
export function parseBackupWindow(text: string): BackupWindow | null {
  const match = WINDOW.exec(text);
  if (!match) return null;
  const [start, end] = [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])];
  const lengthMinutes = (end - start + 1440) % 1440;
  return lengthMinutes === 0 ? null : { startMinute: start, lengthMinutes };
}

/** The server's place in the window, ms after its start: stable, and consecutive ids fall far apart (Fibonacci hashing). */
export function backupOffsetMs(serverId: number, window: BackupWindow): number {
  const spread = (Math.imul(serverId, 0x9e3779b1) >>> 0) / 2 ** 32;
  return Math.floor(spread * window.lengthMinutes) * MINUTE_MS;
}

/** The server's first backup time strictly after `after`. */
export function nextBackupAt(serverId: number, window: BackupWindow, after: string): string {
  const afterMs = Date.parse(after);
  const slotOfDay = window.startMinute * MINUTE_MS + backupOffsetMs(serverId, window);
  const today = Math.floor(afterMs / DAY_MS) * DAY_MS;
  for (let day = today - DAY_MS; ; day += DAY_MS) {
    const slot = day + slotOfDay;
    if (slot > afterMs) return new Date(slot).toISOString();
  }
}
