import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DriverInventory } from "../drivers/driver.ts";

/** Where the agent keeps its host credential. */
export function credentialPath(stateDir: string): string {
  return join(stateDir, "credential");
}

/** The credential kept from an earlier start; undefined on the first. */
export async function readCredential(stateDir: string): Promise<string | undefined> {
  try {
    return (await readFile(credentialPath(stateDir), "utf8")).trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Exchanges the join token for the host's credential (once: the token is spent) and keeps it in a file created
 * with mode 0600, so it is never readable by others, not even for a moment. Throws with the control plane's
 * reason when it refuses.
 */
export async function joinControlPlane(
  url: string,
  joinToken: string,
  stateDir: string,
  report: { inventory: DriverInventory; agentVersion: string; driver: string },
): Promise<string> {
  const { inventory } = report;
  const res = await fetch(new URL("/api/v1/agent/join", url), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      join_token: joinToken,
      agent_version: report.agentVersion,
      driver: report.driver,
      capacity: { vcpus: inventory.vcpus, memory_mb: inventory.memoryMb, disk_gb: inventory.diskGb },
      images: inventory.images,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => undefined)) as
    | { credential?: string; error?: { code: string; message: string } }
    | undefined;
  if (res.status !== 201 || !body?.credential) {
    const reason = body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
    throw new Error(`the control plane refused the join token (${reason}); issue a new one for this host`);
  }
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // "wx": a credential kept already is never overwritten by a second join racing this one.
  await writeFile(credentialPath(stateDir), `${body.credential}\n`, { mode: 0o600, flag: "wx" });
  return body.credential;
}
