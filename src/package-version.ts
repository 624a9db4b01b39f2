import { readFileSync } from "node:fs";

/** This program's version as package.json says: what an embedded host reports as its agent version. */
export const packageVersion: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;
