/** Exponential backoff with ±20% jitter, capped: attempt 1 waits about `baseMs`, attempt 2 twice that, and so on. */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  capMs = 60_000,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}
