import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import { ConfigError } from "../config-error.ts";
import { openDatabase } from "../db/database.ts";
import { systemClock } from "../domain/clock.ts";
import { createDriver } from "../drivers/create-driver.ts";
import { HttpHostLink } from "../engine/http-host-link.ts";
import { packageVersion } from "../package-version.ts";
import { createImageStore } from "../store/create-image-store.ts";
import { joinControlPlane, readCredential } from "./agent-credential.ts";
import { HostAgent } from "./host-agent.ts";

/**
 * The `agent` role: joins the control plane on first start (keeping the credential), then drives this host's
 * machines until SIGTERM. No HTTP listener and no control-plane database: the sim driver's machines live in a
 * SQLite file of the agent's own, the hypervisor's local state.
 */
export async function runAgent(config: Config, log: Logger): Promise<void> {
  const url = config.controlPlaneUrl;
  if (!url) throw new ConfigError("VPS_ROLE=agent needs VPS_CONTROL_PLANE_URL");
  const stateDir = config.agentStateDir;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const local = await openDatabase(join(stateDir, "machines.db"));
  const driver = createDriver(config, local, systemClock);
  const call = { signal: AbortSignal.timeout(120_000), log };
  const probe = await driver.probe(call);
  if (!probe.ok) {
    await local.close();
    throw new ConfigError(`the ${driver.name} driver cannot run here: ${probe.detail}`);
  }

  let credential = await readCredential(stateDir);
  if (!credential) {
    if (!config.joinToken) {
      await local.close();
      throw new ConfigError(
        `no host credential in ${stateDir}: set VPS_JOIN_TOKEN to the join token the admin API issued for this host`,
      );
    }
    const inventory = await driver.inventory(call);
    credential = await joinControlPlane(url, config.joinToken, stateDir, {
      inventory,
      agentVersion: packageVersion,
      driver: driver.name,
    });
    log.info({ stateDir }, "joined the control plane; host credential kept");
  }

  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= agent
      .stop(config.shutdownGraceMs)
      .catch((err) => log.error({ err }, "stopping the agent failed"))
      .then(() => local.close())
      .then(() => process.exit(code));
    return stopping;
  };
  const link = new HttpHostLink({
    url,
    credential,
    log: log.child({ component: "link" }),
    onRefused: () => {
      if (stopping) return;
      log.fatal(
        "the control plane refused this host's credential (revoked, or the host deleted): stopping; " +
          `to join again, delete ${join(stateDir, "credential")} and start with a new VPS_JOIN_TOKEN`,
      );
      void stop(1);
    },
  });
  const agent = new HostAgent({
    link,
    driver,
    // The fleet's one store (a directory every host mounts, or S3): an image taken here is restored anywhere.
    store: createImageStore(config.imageStore),
    clock: systemClock,
    log,
    version: packageVersion,
    concurrency: config.workerConcurrency,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    downAfterMs: config.hostDownAfterMs,
    reportMs: config.powerSyncMs,
    transferAddress: config.agentTransferAddress,
    console: config.console,
  });
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal; exiting at once");
      process.exit(1);
    }
    log.info({ signal }, "shutting down: finishing running operations and giving back leases");
    void stop(0);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  const host = await agent.start();
  log.info(
    { role: "agent", driver: driver.name, host: host.host_id, name: host.name, controlPlane: url },
    "ready",
  );
}
