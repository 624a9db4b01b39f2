import type { ImageRow, OsRow } from "../../db/schema.ts";
import { type Html, html } from "../html.ts";

/** What a new or rebuilt disk is made from, as a select's value: `os:<id>` or `image:<id>`. */
export type DiskSource = { os_id: number } | { image_id: number };

export function parseDiskSource(value: string): DiskSource | undefined {
  const match = /^(os|image):([1-9][0-9]{0,14})$/.exec(value);
  if (!match) return undefined;
  const id = Number(match[2]);
  return match[1] === "os" ? { os_id: id } : { image_id: id };
}

function imageLabel(image: ImageRow): string {
  const name = image.name ?? `${image.type} ${image.id}`;
  return `${name} (${image.type}, ${image.disk_gb} GB disk, ${image.created_at.slice(0, 10)})`;
}

/** The operating systems, then the account's available images, as options of one select. */
export function diskSourceOptions(systems: OsRow[], images: ImageRow[], selected: string): Html {
  const option = (value: string, label: string) =>
    html`<option value="${value}"${value === selected ? html` selected` : ""}>${label}</option>`;
  const available = images.filter((i) => i.status === "available");
  return html`<optgroup label="Operating systems">${systems.map((os) => option(`os:${os.id}`, os.name))}</optgroup>
${available.length > 0 ? html`<optgroup label="Your images">${available.map((i) => option(`image:${i.id}`, imageLabel(i)))}</optgroup>` : ""}`;
}
