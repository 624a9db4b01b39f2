import { open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { runTool } from "./run-tool.ts";
import type { VmDirectory } from "./vm-directory.ts";

// A user-mode (slirp) VM's traffic, counted on the host: QEMU's filter-dump objects on the VM's netdev write a
// pcap record per frame, cut to one byte (`maxlen=1`), to a file per direction; the meter adds up the records'
// frame lengths. See the README ("Traffic in user mode").

export type Direction = "in" | "out";

/** The pcap files and their filter's queue: `tx` is what the netdev sends to the guest, `rx` what it gets from it. */
export const METER_FILES = { in: "net-in.pcap", out: "net-out.pcap" } as const;
export const METER_QUEUES = { in: "tx", out: "rx" } as const;

const STATE_FILE = "net-meter.json";
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const PCAP_MAGIC = 0xa1b2c3d4;
const READ_CHUNK = 1 << 20;
/** The part of a file read so far is given back to the disk (a hole punched) each time this much more was read. */
export const PUNCH_EVERY = 64 * 2 ** 20;

/** Per direction: the bytes of the frames counted, and how far its file was read. */
interface DirectionState {
  bytes: number;
  offset: number;
}
type MeterState = Record<Direction, DirectionState>;

export interface Traffic {
  inBytes: number;
  outBytes: number;
}

/**
 * Reads each VM's pcap files from where it last stopped and keeps the totals with the offsets in the VM's
 * `net-meter.json`, written after every read: a restarted control plane goes on from there, never counting a
 * frame twice or losing one. The totals go on across the VM's restarts (`restart`); they end with the VM.
 */
export class TrafficMeter {
  readonly #vms: VmDirectory;
  readonly #punchTool: string;
  /** One read at a time per VM: two would count the same records. */
  readonly #busy = new Map<string, Promise<unknown>>();

  constructor(vms: VmDirectory, punchTool = "fallocate") {
    this.#vms = vms;
    this.#punchTool = punchTool;
  }

  file(id: string, direction: Direction): string {
    return `${this.#vms.dir(id)}/${METER_FILES[direction]}`;
  }

  /** The bytes received and sent so far, counting what QEMU wrote since the last call. */
  totals(id: string, signal: AbortSignal): Promise<Traffic> {
    return this.#serial(id, async () => {
      const state = await this.#read(id, signal);
      return { inBytes: state.in.bytes, outBytes: state.out.bytes };
    });
  }

  /**
   * Before QEMU starts again (it truncates the files): what the last run wrote is counted, then the files go and
   * the offsets start over. Each step is saved before the next, so a crash between them neither loses nor repeats.
   */
  restart(id: string, signal: AbortSignal): Promise<void> {
    return this.#serial(id, async () => {
      const state = await this.#read(id, signal);
      for (const direction of ["in", "out"] as const) await rm(this.file(id, direction), { force: true });
      await this.#save(id, {
        in: { bytes: state.in.bytes, offset: 0 },
        out: { bytes: state.out.bytes, offset: 0 },
      });
    });
  }

  async #read(id: string, signal: AbortSignal): Promise<MeterState> {
    const state = await this.#load(id);
    const next: MeterState = {
      in: await this.#count(this.file(id, "in"), state.in, signal),
      out: await this.#count(this.file(id, "out"), state.out, signal),
    };
    if (next.in.offset !== state.in.offset || next.out.offset !== state.out.offset) {
      await this.#save(id, next);
      for (const direction of ["in", "out"] as const) {
        const from = state[direction].offset;
        const to = next[direction].offset;
        if (Math.floor(to / PUNCH_EVERY) > Math.floor(from / PUNCH_EVERY)) {
          await this.#punch(this.file(id, direction), to, signal);
        }
      }
    }
    return next;
  }

  /** The complete records after `from.offset`; a record QEMU is still writing is read next time. */
  async #count(path: string, from: DirectionState, signal: AbortSignal): Promise<DirectionState> {
    const file = await open(path, "r").catch(() => null);
    if (!file) return from;
    try {
      const size = (await file.stat()).size;
      // Shorter than where the reading got: not the file that was read (QEMU started it again), read from its start.
      let offset = size < from.offset ? 0 : from.offset;
      let bytes = from.bytes;
      if (offset < GLOBAL_HEADER) {
        if (size < GLOBAL_HEADER) return { bytes, offset };
        const header = Buffer.alloc(GLOBAL_HEADER);
        await file.read(header, 0, GLOBAL_HEADER, 0);
        if (header.readUInt32LE(0) !== PCAP_MAGIC) return { bytes, offset };
        offset = GLOBAL_HEADER;
      }
      const buffer = Buffer.alloc(READ_CHUNK);
      while (offset < size) {
        signal.throwIfAborted();
        const { bytesRead } = await file.read(buffer, 0, Math.min(READ_CHUNK, size - offset), offset);
        let at = 0;
        while (at + RECORD_HEADER <= bytesRead) {
          const captured = buffer.readUInt32LE(at + 8);
          if (at + RECORD_HEADER + captured > bytesRead) break;
          bytes += buffer.readUInt32LE(at + 12);
          at += RECORD_HEADER + captured;
        }
        if (at === 0) break;
        offset += at;
      }
      return { bytes, offset };
    } finally {
      await file.close();
    }
  }

  /** Gives the file's read part back to the disk; QEMU goes on writing at its end, the size stays. */
  async #punch(path: string, upTo: number, signal: AbortSignal): Promise<void> {
    const length = upTo - (upTo % 4096);
    await runTool(
      this.#punchTool,
      ["--punch-hole", "--offset", "0", "--length", String(length), path],
      signal,
    ).catch(() => undefined);
  }

  async #load(id: string): Promise<MeterState> {
    try {
      const saved = JSON.parse(await readFile(`${this.#vms.dir(id)}/${STATE_FILE}`, "utf8")) as MeterState;
      return { in: { ...saved.in }, out: { ...saved.out } };
    } catch {
      return { in: { bytes: 0, offset: 0 }, out: { bytes: 0, offset: 0 } };
    }
  }

  async #save(id: string, state: MeterState): Promise<void> {
    const path = `${this.#vms.dir(id)}/${STATE_FILE}`;
    await writeFile(`${path}.tmp`, `${JSON.stringify(state)}\n`);
    await rename(`${path}.tmp`, path);
  }

  async #serial<T>(id: string, step: () => Promise<T>): Promise<T> {
    const before = this.#busy.get(id) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(step);
    this.#busy.set(id, run);
    try {
      return await run;
    } finally {
      if (this.#busy.get(id) === run) this.#busy.delete(id);
    }
  }
}
