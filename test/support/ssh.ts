import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface KeyPair {
  privateKeyPath: string;
  publicKey: string;
}

/** A real ed25519 key pair made by ssh-keygen in a temporary folder. */
export async function makeKeyPair(): Promise<KeyPair> {
  const dir = mkdtempSync(join(tmpdir(), "vps-key-"));
  const privateKeyPath = join(dir, "id_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tests@vps", "-f", privateKeyPath]);
  return { privateKeyPath, publicKey: readFileSync(`${privateKeyPath}.pub`, "utf8").trim() };
}

function sshArgs(host: string, port: number, key: KeyPair, command: string): string[] {
  return [
    "-i",
    key.privateKeyPath,
    "-p",
    String(port),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=5",
    "-o",
    "LogLevel=ERROR",
    `root@${host}`,
    command,
  ];
}

/** Runs `command` on the guest as root over SSH with the key; rejects when SSH fails. */
export async function sshRun(
  host: string,
  port: number,
  key: KeyPair,
  command: string,
  timeoutMs = 20_000,
): Promise<string> {
  const { stdout } = await run("ssh", sshArgs(host, port, key, command), { timeout: timeoutMs });
  return stdout.trim();
}

/**
 * Moves bytes through SSH both ways: `input` goes to the command's stdin on the guest, and the command's stdout
 * comes back and is thrown away. How many bytes came back; rejects when SSH fails.
 */
export function sshTransfer(
  host: string,
  port: number,
  key: KeyPair,
  command: string,
  input: Buffer = Buffer.alloc(0),
  timeoutMs = 120_000,
): Promise<number> {
  return new Promise((resolveTransfer, reject) => {
    const child = spawn("ssh", sshArgs(host, port, key, command), { timeout: timeoutMs });
    let received = 0;
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolveTransfer(received) : reject(new Error(`ssh exited ${code}: ${stderr.trim()}`)),
    );
    child.stdin.end(input);
  });
}

/**
 * Retries `command` until SSH answers, or fails after `timeoutMs`. Each attempt is cut short: with user-mode
 * networking QEMU accepts the TCP connection before the guest listens, and ssh then waits for a banner forever.
 */
export async function sshWhenReady(
  host: string,
  port: number,
  key: KeyPair,
  command: string,
  timeoutMs = 240_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await sshRun(host, port, key, command, 4000);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`SSH to ${host}:${port} not ready within ${timeoutMs} ms: ${String(last)}`);
}
