// A small HTTP client over fetch for tests: real requests, JSON bodies, the response as the user sees it.

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the tests themselves
export type Json = any;

export interface Response {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

export interface Client {
  token: string | undefined;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  get(path: string): Promise<Response>;
  post(path: string, body?: unknown): Promise<Response>;
  put(path: string, body?: unknown): Promise<Response>;
  patch(path: string, body?: unknown): Promise<Response>;
  delete(path: string): Promise<Response>;
}

export function client(baseUrl: string, token: string | undefined): Client {
  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        "Content-Type": "application/json",
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    token,
    request,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
    patch: (path, body) => request("PATCH", path, body),
    delete: (path) => request("DELETE", path),
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until the server reaches `status` and returns its detail. */
export async function waitForStatus(
  api: Client,
  id: number,
  status: string,
  timeoutMs = 10_000,
): Promise<Json> {
  let last: Json;
  try {
    return await eventually(
      async () => {
        const res = await api.get(`/api/v1/servers/${id}/`);
        last = res.body;
        return res.body?.status === status ? res.body : undefined;
      },
      timeoutMs,
      `server ${id} to be ${status}`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

export const SAMPLE_CREATE = {
  name: "web-server-02",
  plan_id: 1,
  os_id: 5,
  location: "us-west",
  hostname: "web02.example.com",
  backups_enabled: true,
};
