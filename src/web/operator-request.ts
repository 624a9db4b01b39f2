import type { FastifyRequest } from "fastify";
import { parseCanonicalId } from "../api/canonical-id.ts";
import { NotFound } from "../domain/errors.ts";
import type { Services } from "../services/services.ts";
import type { PageFrame } from "./layout.ts";
import { headerAccount } from "./signed-in-frame.ts";
import { session } from "./web-request.ts";

/** Items on one page of an operator's list. */
export const OPERATOR_PAGE_SIZE = 50;

/** The frame of an operator's page: the signed-in operator in the header, the form token. */
export async function operatorFrame(request: FastifyRequest, services: Services): Promise<PageFrame> {
  const account = await services.accounts.get(session(request).accountId);
  return {
    title: "",
    csrf: request.web.csrf,
    account: headerAccount(services, account),
  };
}

/** `?page=` of a list: a page number, 1 when absent or not one. */
export function pageNumber(request: FastifyRequest): number {
  const text = (request.query as Record<string, unknown> | undefined)?.page;
  return (typeof text === "string" ? parseCanonicalId(text) : undefined) ?? 1;
}

/** The id a page's path names; a 404 (as the API's) when the segment is no id. */
export function pathId(text: string, what: string): number {
  const id = parseCanonicalId(text);
  if (id === undefined) throw new NotFound(what);
  return id;
}
