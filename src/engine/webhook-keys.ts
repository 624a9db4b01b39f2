import { randomBytes } from "node:crypto";
import type { Repositories } from "../db/repositories/repositories.ts";
import { openResponse, sealResponse } from "../domain/sealed-response.ts";
import { webhookSealKey } from "../domain/webhook-signature.ts";

const SETTING = "webhook_secret_key";

/**
 * Seals and opens endpoints' signing secrets with the operator's VPS_WEBHOOK_SECRET_KEY, or, unset, a key made
 * once and kept in the settings table (every process of the database finds the same one).
 */
export class WebhookKeys {
  readonly #repos: Repositories;
  readonly #configured: string | undefined;
  #master: Promise<string> | undefined;

  constructor(repos: Repositories, configured: string | undefined) {
    this.#repos = repos;
    this.#configured = configured;
  }

  /**
   * Reads (or makes) the key now: a caller about to seal inside a transaction calls this first, as the key is read
   * outside it (SQLite's one connection would wait for the transaction).
   */
  async load(): Promise<void> {
    await this.#masterKey();
  }

  async seal(endpointId: number, secret: string): Promise<string> {
    return sealResponse(secret, webhookSealKey(await this.#masterKey(), endpointId));
  }

  /** The secret, or undefined when the key that sealed it is not this one (the operator changed it). */
  async open(endpointId: number, sealed: string): Promise<string | undefined> {
    return openResponse(sealed, webhookSealKey(await this.#masterKey(), endpointId));
  }

  #masterKey(): Promise<string> {
    if (this.#configured !== undefined) return Promise.resolve(this.#configured);
    this.#master ??= (async () => {
      await this.#repos.settings.setIfAbsent(SETTING, randomBytes(32).toString("base64url"));
      const key = await this.#repos.settings.get(SETTING);
      if (key === undefined) throw new Error("the webhook secret key could not be stored");
      return key;
    })().catch((err) => {
      this.#master = undefined;
      throw err;
    });
    return this.#master;
  }
}
