export interface RetryOptions {
  /** Attempts in all, the first one included (default 4). */
  maxAttempts?: number;
  /** A 429 whose Retry-After asks for longer than this is not retried but thrown (default 60 s). */
  maxRetryAfterSeconds?: number;
  /** First pause after a network error, doubled each time (default 200 ms). */
  networkBackoffMs?: number;
}

type Fetch = (request: Request) => Promise<Response>;

// PATCH carries no key the API honours, so a lost answer may have changed the server: it is not resent.
const RESENDABLE = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A fetch that gives every POST an `Idempotency-Key` (so that resending it is safe), resends a request refused
 * with 429 after its Retry-After, and resends an idempotent one whose answer was lost to a network error.
 */
export function retryingFetch(fetch: Fetch, options: RetryOptions = {}): Fetch {
  const maxAttempts = options.maxAttempts ?? 4;
  const maxRetryAfterSeconds = options.maxRetryAfterSeconds ?? 60;
  const networkBackoffMs = options.networkBackoffMs ?? 200;
  return async (request) => {
    if (request.method === "POST" && !request.headers.has("Idempotency-Key"))
      request.headers.set("Idempotency-Key", crypto.randomUUID());
    const resendable = RESENDABLE.has(request.method) || request.headers.has("Idempotency-Key");
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(request.clone());
      } catch (error) {
        // An abort is the caller's choice, not a lost answer.
        if (!resendable || attempt >= maxAttempts || request.signal.aborted) throw error;
        await sleep(networkBackoffMs * 2 ** (attempt - 1));
        continue;
      }
      if (response.status !== 429 || attempt >= maxAttempts) return response;
      // A 429 did nothing on the server, so any method may be sent again once the window allows it.
      const seconds = Number(response.headers.get("Retry-After") ?? "1");
      if (!Number.isFinite(seconds) || seconds > maxRetryAfterSeconds) return response;
      await response.body?.cancel();
      await sleep(Math.max(0, seconds) * 1000);
    }
  };
}
