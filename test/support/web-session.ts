import type { TestApp } from "./test-app.ts";

/** A raw HTTP visitor of the web console: keeps its session cookie, reads CSRF tokens from pages. */
export interface WebVisitor {
  cookie: string | undefined;
  get(path: string): Promise<globalThis.Response>;
  /** Posts a form (x-www-form-urlencoded); `_csrf` is added from the last page unless `fields` names it. */
  post(
    path: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<globalThis.Response>;
  csrf: string | undefined;
}

export function webVisitor(url: string): WebVisitor {
  const visitor: WebVisitor = {
    cookie: undefined,
    csrf: undefined,
    async get(path) {
      const res = await fetch(`${url}${path}`, { headers: headers(), redirect: "manual" });
      remember(res);
      const text = await res.clone().text();
      const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
      if (token) visitor.csrf = token;
      return res;
    },
    async post(path, fields, extra = {}) {
      const body = new URLSearchParams({ ...(visitor.csrf ? { _csrf: visitor.csrf } : {}), ...fields });
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers(), ...extra },
        body: body.toString(),
        redirect: "manual",
      });
      remember(res);
      return res;
    },
  };
  const headers = (): Record<string, string> =>
    visitor.cookie ? { cookie: `vps_session=${visitor.cookie}` } : {};
  const remember = (res: globalThis.Response) => {
    const set = /vps_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
    if (set) visitor.cookie = set;
  };
  return visitor;
}

/** An invitation link for the account, through the admin API; the path part of its URL. */
export async function invitationPath(app: TestApp, accountId: number): Promise<string> {
  const res = await app.admin.post(`/api/v1/admin/accounts/${accountId}/invitation/`);
  if (res.status !== 201) throw new Error(`invitation failed: ${res.status} ${res.text}`);
  return new URL(res.body.url).pathname;
}

/** A raw visitor signed in as the account, its password set through an invitation. */
export async function signedInVisitor(
  app: TestApp,
  accountId: number,
  password = "correct horse battery",
): Promise<WebVisitor> {
  const visitor = webVisitor(app.url);
  const path = await invitationPath(app, accountId);
  await visitor.get(path);
  const res = await visitor.post(path, { password });
  if (res.status !== 303) throw new Error(`setting the password failed: ${res.status} ${await res.text()}`);
  return visitor;
}
