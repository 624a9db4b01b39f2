import type { Repositories } from "../db/repositories/repositories.ts";
import type { SshKeyRow } from "../db/schema.ts";
import { type Clock, isoAt } from "../domain/clock.ts";
import { Conflict, InvalidInput, NotFound } from "../domain/errors.ts";
import { parseSshPublicKey } from "../domain/ssh-public-key.ts";

export class SshKeyService {
  readonly #repos: Repositories;
  readonly #clock: Clock;
  constructor(repos: Repositories, clock: Clock) {
    this.#repos = repos;
    this.#clock = clock;
  }

  list(accountId: number): Promise<SshKeyRow[]> {
    return this.#repos.sshKeys.list(accountId);
  }

  async get(accountId: number, id: number): Promise<SshKeyRow> {
    const key = await this.#repos.sshKeys.find(accountId, id);
    if (!key) throw new NotFound("SSH key");
    return key;
  }

  async create(accountId: number, name: string, publicKey: string): Promise<SshKeyRow> {
    const cleanName = name.trim();
    if (cleanName.length === 0 || cleanName.length > 100) {
      throw InvalidInput.field("name", "Must be 1-100 characters.");
    }
    const parsed = parseSshPublicKey(publicKey);
    if (!parsed.ok) throw InvalidInput.field("public_key", parsed.reason);
    const { key } = parsed;
    return this.#repos.transaction(async (tx) => {
      const existing = await tx.sshKeys.findByFingerprint(accountId, key.fingerprint);
      if (existing) {
        throw new Conflict(
          "ssh_key_exists",
          `This key is already registered as SSH key ${existing.id} ("${existing.name}").`,
        );
      }
      return tx.sshKeys.insert({
        account_id: accountId,
        name: cleanName,
        public_key: key.comment ? `${key.normalized} ${key.comment}` : key.normalized,
        fingerprint: key.fingerprint,
        key_type: key.type,
        bits: key.bits,
        created_at: isoAt(this.#clock),
      });
    });
  }

  async rename(accountId: number, id: number, name: string): Promise<SshKeyRow> {
    const cleanName = name.trim();
    if (cleanName.length === 0 || cleanName.length > 100) {
      throw InvalidInput.field("name", "Must be 1-100 characters.");
    }
    const key = await this.#repos.sshKeys.rename(accountId, id, cleanName);
    if (!key) throw new NotFound("SSH key");
    return key;
  }

  async delete(accountId: number, id: number): Promise<void> {
    const deleted = await this.#repos.transaction((tx) => tx.sshKeys.delete(accountId, id));
    if (!deleted) throw new NotFound("SSH key");
  }
}
