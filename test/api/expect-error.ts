// Assertions on the contract's one error shape: {"error": {"code", "message", "fields"?}}, never a stack trace.
import assert from "node:assert/strict";
import type { Response } from "../support/client.ts";

/** A stack frame of our own code, as it would leak into a body: "at fn (/…/file.ts:12:3)". */
const STACK_FRAME = /\bat .*\.ts:\d+/;

export function assertNoStackTrace(res: Response): void {
  assert.doesNotMatch(res.text, STACK_FRAME, `the body leaks a stack trace: ${res.text}`);
}

/**
 * The response is the error `code` with `status`, in the shared shape; when `fields` are given, each of them has
 * at least one message (and `fields` lists nothing else when `exactFields` is set).
 */
export function expectError(
  res: Response,
  status: number,
  code: string,
  fields: string[] = [],
  options: { exactFields?: boolean } = {},
): void {
  const context = `${res.status} ${res.text}`;
  assert.equal(res.status, status, context);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, context);
  assertNoStackTrace(res);
  assert.deepEqual(Object.keys(res.body ?? {}), ["error"], context);
  const { error } = res.body;
  assert.equal(error.code, code, context);
  assert.equal(typeof error.message, "string", context);
  assert.ok(error.message.length > 0, context);
  for (const key of Object.keys(error)) {
    assert.ok(["code", "message", "fields", "action_id"].includes(key), context);
  }
  for (const field of fields) {
    const messages = error.fields?.[field];
    assert.ok(Array.isArray(messages) && messages.length > 0, `no message for field "${field}": ${context}`);
    for (const message of messages) assert.equal(typeof message, "string", context);
  }
  if (options.exactFields)
    assert.deepEqual(Object.keys(error.fields ?? {}).sort(), [...fields].sort(), context);
}

/** 400 `invalid_input` naming exactly these fields. */
export function expectInvalid(res: Response, ...fields: string[]): void {
  expectError(res, 400, "invalid_input", fields, { exactFields: true });
}
