// Server names and host names, as the contract's Part 2 defines them.

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** 1–63 letters, digits and hyphens, not starting or ending with a hyphen. */
export function serverNameProblem(name: string): string | null {
  if (name.length === 0) return "Must not be empty.";
  if (name.length > 63) return "Must be at most 63 characters.";
  if (!LABEL.test(name)) return "Use only letters, digits and hyphens, not starting or ending with a hyphen.";
  return null;
}

/** A fully qualified domain name: RFC 1123 labels joined by dots, at most 253 characters. */
export function hostnameProblem(hostname: string): string | null {
  if (hostname.length === 0) return "Must not be empty.";
  if (hostname.length > 253) return "Must be at most 253 characters.";
  const labels = hostname.split(".");
  if (labels.length < 2) return "Must be a fully qualified domain name such as web01.example.com.";
  if (!labels.every((label) => LABEL.test(label))) {
    return "Each label must be 1-63 letters, digits and hyphens, not starting or ending with a hyphen.";
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? "")) return "The top-level label must not be numeric.";
  return null;
}
