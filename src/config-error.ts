/** A setting that cannot work; the process prints it and exits before doing anything. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
