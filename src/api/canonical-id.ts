/** An id written as an API writes it: decimal digits, no sign, no leading zero, within the safe integers. */
const CANONICAL_ID = /^[1-9][0-9]{0,15}$/;

/**
 * The id a path segment names, or undefined when the text is not an id in canonical form. "0x3039",
 * "12345.0", "012345", "+12345", " 12345" and "12.345e3" all read as 12345 to a number parser, yet none of
 * them is the path of server 12345: each is a 404, so a resource has one URL.
 */
export function parseCanonicalId(text: string): number | undefined {
  if (!CANONICAL_ID.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}
