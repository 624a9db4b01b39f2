export * from "./client.ts";
export type { RetryOptions } from "./retrying-fetch.ts";
export { VpsApiError, VpsWaitTimeoutError } from "./vps-api-error.ts";
