import createFetchClient, { type Client as FetchClient, type Middleware } from "openapi-fetch";
import type { RetryOptions } from "./retrying-fetch.js";
// Type-only imports name the emitted .js: declaration files keep their paths as written.
import { retryingFetch } from "./retrying-fetch.ts";
import type { components, operations, paths } from "./schema.js";
import { VpsApiError, VpsWaitTimeoutError } from "./vps-api-error.ts";

export interface ClientOptions {
  /** The service's root, e.g. `https://vps.example.com` (paths start with /api/v1). */
  url: string;
  /** An API token of the account (sent as a Bearer token). */
  token: string;
  fetch?: (request: Request) => Promise<Response>;
  retry?: RetryOptions;
}

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
export type Action = Json<operations["getAction"]["responses"][200]>;
export type Server = Json<operations["getServer"]["responses"][200]>;
export type ServerStatus = Server["status"];

/** The GET paths that answer a page: `{count, next, previous, results}`. */
export type PagedPath = {
  [P in keyof paths]: paths[P] extends {
    get: {
      responses: { 200: { content: { "application/json": { next: string | null; results: unknown[] } } } };
    };
  }
    ? P
    : never;
}[keyof paths];
type PagedGet<P extends PagedPath> = paths[P]["get"];
export type PageItem<P extends PagedPath> = Json<PagedGet<P>["responses"][200]>["results"][number];
type QueryOf<P extends PagedPath> = PagedGet<P> extends { parameters: { query?: infer Q } } ? Q : never;
type PathParamsOf<P extends PagedPath> = PagedGet<P> extends { parameters: { path: infer A } } ? A : never;

export interface WaitOptions {
  /** How long to wait in all (default 300 s); the server holds each request up to 60 s of it. */
  timeoutSeconds?: number;
}

export type VpsClient = FetchClient<paths> & {
  /** Answers the action once it has ended (`success` or `error`), waiting on the server, not polling. */
  waitForAction(id: number, options?: WaitOptions): Promise<Action>;
  /** Answers the server once it has `status`, waiting on the server with `until_status`. */
  waitForServerStatus(id: number, status: ServerStatus, options?: WaitOptions): Promise<Server>;
  /** Every item of a paged list, page after page, following each page's `next`. */
  pages<P extends PagedPath>(
    path: P,
    query?: QueryOf<P>,
    pathParams?: PathParamsOf<P>,
  ): AsyncIterable<PageItem<P>>;
};

// The API holds a wait for at most this long; longer deadlines are several waits.
const MAX_SERVER_WAIT_SECONDS = 60;

// An error answer becomes a thrown VpsApiError, so `data` is what a call returns.
const throwErrors: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await VpsApiError.from(response);
    return undefined;
  },
};

/** A client of the API: typed calls (`GET`, `POST`…) from openapi.json, the helpers, retries and typed errors. */
export function createClient(options: ClientOptions): VpsClient {
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const baseUrl = options.url.replace(/\/+$/, "");
  const api = createFetchClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${options.token}` },
    fetch: retryingFetch(fetch, options.retry),
  });
  api.use(throwErrors);

  async function until<T>(
    options: WaitOptions | undefined,
    ask: (waitSeconds: number) => Promise<T>,
    done: (value: T) => boolean,
  ): Promise<T> {
    const deadline = Date.now() + (options?.timeoutSeconds ?? 300) * 1000;
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const value = await ask(Math.max(0, Math.min(MAX_SERVER_WAIT_SECONDS, left)));
      if (done(value)) return value;
      if (Date.now() >= deadline)
        throw new VpsWaitTimeoutError(`not done after ${options?.timeoutSeconds ?? 300} s`);
    }
  }

  // The generic paths of `pages` are beyond openapi-fetch's inference: it calls through an untyped view.
  const loose = api as unknown as {
    GET(path: string, init: { params: { query?: object; path?: object } }): Promise<{ data?: unknown }>;
  };

  return Object.assign(api, {
    waitForAction: (id: number, waitOptions?: WaitOptions) =>
      until(
        waitOptions,
        async (wait) =>
          (
            await api.GET("/api/v1/actions/{action_id}/", {
              params: { path: { action_id: id }, query: { wait } },
            })
          ).data as Action,
        (action) => action.status !== "running",
      ),
    waitForServerStatus: (id: number, status: ServerStatus, waitOptions?: WaitOptions) =>
      until(
        waitOptions,
        async (wait) =>
          (
            await api.GET("/api/v1/servers/{server_id}/", {
              params: { path: { server_id: id }, query: { until_status: status, wait } },
            })
          ).data as Server,
        (server) => server.status === status,
      ),
    async *pages<P extends PagedPath>(path: P, query?: QueryOf<P>, pathParams?: PathParamsOf<P>) {
      let params: { query?: object; path?: object } = { query: query ?? {}, path: pathParams ?? {} };
      for (;;) {
        const { data } = await loose.GET(path, { params });
        const page = data as { next: string | null; results: PageItem<P>[] };
        yield* page.results;
        if (!page.next) return;
        params = { ...params, query: Object.fromEntries(new URL(page.next, baseUrl).searchParams) };
      }
    },
  });
}

export type { components, paths };
