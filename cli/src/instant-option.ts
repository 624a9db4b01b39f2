import { CliError } from "./cli-error.ts";

/**
 * A time option as the API takes it (ISO 8601 date-time): a bare date (YYYY-MM-DD) is its midnight UTC; a
 * date-time is sent as given, for the API to check.
 */
export function instant(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00Z`;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value))
    throw new CliError(
      `${flag} takes a date (2030-01-31) or a date-time, not "${value}"`,
      "invalid_input",
      2,
    );
  return value;
}
