export * from "./client.ts";
export type { RetryOptions } from "./retrying-fetch.js";
export { VpsApiError, VpsWaitTimeoutError } from "./vps-api-error.ts";
