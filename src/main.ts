import { runAgent } from "./agent/run-agent.ts";
import { boot } from "./boot.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { bootstrap, type GeneratedSecrets } from "./services/bootstrap.ts";

/** Generated secrets go to the operator's terminal once, outside the JSON log stream. */
function showSecrets(secrets: GeneratedSecrets, base: string): void {
  const lines: string[] = [];
  if (secrets.adminToken) lines.push(`Admin token (VPS_ADMIN_TOKEN):      ${secrets.adminToken}`);
  if (secrets.bootstrapToken) {
    lines.push(`API token of ${secrets.bootstrapEmail}: ${secrets.bootstrapToken}`);
  }
  if (lines.length > 0) {
    process.stderr.write(
      `\nGenerated on first start and shown only this once; store them now:\n  ${lines.join("\n  ")}\n\n`,
    );
  }
  if (secrets.invitation) {
    process.stderr.write(
      `Sign in to the web console: open ${base}${secrets.invitation.path} to set the password of ` +
        `${secrets.bootstrapEmail} (works once, until ${secrets.invitation.expiresAt}), then sign in at ${base}/sign-in\n\n`,
    );
  }
}

/** Where a person reaches this process: VPS_PUBLIC_URL, or the listen address (any-address shown as loopback). */
function consoleUrl(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const host = ["0.0.0.0", "::", ""].includes(config.host) ? "127.0.0.1" : config.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config);
  if (config.role === "agent") return runAgent(config, log);
  const plane = await boot({ config, log });
  const { driver, database } = plane;
  const probe = await driver.probe({ signal: AbortSignal.timeout(120_000), log });
  if (!probe.ok) {
    await plane.close();
    throw new ConfigError(`the ${driver.name} driver cannot run here: ${probe.detail}`);
  }
  log.info({ driver: driver.name, detail: probe.detail }, "driver ready");
  showSecrets(await bootstrap(config, plane.services, log), consoleUrl(config));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal; exiting at once");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight requests and operations");
    try {
      await plane.close();
      log.info("stopped cleanly");
      process.exit(0);
    } catch (err) {
      log.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  const { role } = config;
  if (role !== "api") await plane.engine.start();
  else await plane.engine.listen();
  if (role !== "worker") await plane.http.listen({ port: config.port, host: config.host });
  // Every role's figures, a worker's included, can be scraped on a listener of their own.
  if (config.metricsAddress) await plane.metricsHttp?.listen(config.metricsAddress);
  const listening = role === "worker" ? {} : { port: config.port, host: config.host };
  log.info({ role, driver: driver.name, database: database.dialect, ...listening }, "ready");
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
  } else {
    process.stderr.write(
      `failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
