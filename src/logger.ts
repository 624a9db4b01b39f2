import { type Logger, pino } from "pino";
import { PinoPretty } from "pino-pretty";
import type { Config } from "./config.ts";

/**
 * The process's logger: JSON lines for machines (`LOG_FORMAT=json`), or readable lines for a person at a
 * terminal (`pretty`). Pretty lines are formatted in this process and written synchronously, not by a worker
 * thread, so the last lines before an exit are never lost.
 */
export function createLogger(config: Pick<Config, "logLevel" | "logFormat">): Logger {
  const options = { level: config.logLevel, base: { service: "vps" } };
  if (config.logFormat === "json") return pino(options);
  return pino(
    options,
    PinoPretty({
      sync: true,
      // Times in UTC like the API's; pid, host and service say nothing to a person at the terminal.
      translateTime: "UTC:yyyy-mm-dd HH:MM:ss.l'Z'",
      ignore: "pid,hostname,service",
    }),
  );
}
