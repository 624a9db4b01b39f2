import type { VpsClient } from "@vps/sdk";
import { CliError } from "./cli-error.ts";
import { listed } from "./output.ts";

/**
 * The id a user means by `ref`: a number is an id; anything else is matched against `label` of every item
 * (the API has no name filter, so every page is read). None or several matches are errors.
 */
export async function resolveRef<T extends { id: number }>(
  ref: string,
  kind: string,
  items: () => AsyncIterable<T>,
  label: (item: T) => string,
): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const found: number[] = [];
  for await (const item of items()) if (label(item) === ref) found.push(item.id);
  if (found.length === 0) throw new CliError(`${kind} "${ref}" not found`, "not_found");
  if (found.length > 1)
    throw new CliError(
      `${found.length} ${kind}s are named "${ref}" (ids ${found.join(", ")}): give an id`,
      "ambiguous",
    );
  return found[0] as number;
}

export const serverId = (vps: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "server",
    () => vps.pages("/api/v1/servers/"),
    (s) => s.name,
  );

export const sshKeyId = (vps: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "SSH key",
    () => listed(vps.GET("/api/v1/ssh-keys/")),
    (k) => k.name,
  );

export const imageId = (vps: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "image",
    () => vps.pages("/api/v1/images/"),
    (i) => i.name ?? "",
  );

export const planId = (vps: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "plan",
    () => listed(vps.GET("/api/v1/plans/")),
    (p) => p.name,
  );

export const osId = (vps: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "OS",
    () => listed(vps.GET("/api/v1/os/")),
    (o) => o.name,
  );

export const hostId = (admin: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "host",
    () => admin.pages("/api/v1/admin/hosts/"),
    (h) => h.name,
  );

export const accountId = (admin: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "account",
    () => admin.pages("/api/v1/admin/accounts/"),
    (a) => a.email,
  );

export const webhookId = (vps: VpsClient, ref: string) =>
  resolveRef(
    ref,
    "webhook",
    () => vps.pages("/api/v1/webhooks/"),
    (w) => w.url,
  );
