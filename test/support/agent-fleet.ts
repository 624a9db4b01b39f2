// A control plane that drives no host itself and host agents that reach it over HTTP only, each a real service
// process (`node src/main.ts`), for the e2e tests of the fleet; every process, the database and the folder are
// cleaned up afterwards even when a test failed.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import type { OpenDatabase } from "../../src/db/database.ts";
import { type Client, client } from "./client.ts";
import { type SpawnedServer, spawnServer } from "./spawned-server.ts";
import { ADMIN_TOKEN, OWNER_TOKEN } from "./test-app.ts";
import { dropDatabase, freshDatabaseUrl, inspectDatabase } from "./test-database.ts";

export interface AgentFleetOptions {
  /** Names the fleet's temporary folder. */
  prefix: string;
  /** The control plane's settings, besides its database, its tokens and VPS_EMBEDDED_HOSTS=off. */
  plane: Record<string, string>;
  /** Every agent's settings, besides its role, control plane and state folder; `startAgent` may override them. */
  agent: Record<string, string>;
  skip?: string | false;
  /** Runs once every process has ended, before the database and the folder go. */
  stopped?: () => void | Promise<void>;
}

export class AgentFleet {
  /** Made at once, so that tests can name their agents' folders while they are registered. */
  readonly dir: string;
  /** The agents started so far, in order, whether still running or not. */
  readonly agents: SpawnedServer[] = [];
  databaseUrl = "";
  readonly #options: AgentFleetOptions;
  #plane: SpawnedServer | undefined;
  #inspect: Promise<OpenDatabase> | undefined;

  constructor(options: AgentFleetOptions) {
    this.#options = options;
    this.dir = mkdtempSync(join(tmpdir(), `vps-${options.prefix}-`));
  }

  get plane(): SpawnedServer {
    if (!this.#plane) throw new Error("the control plane starts in the suite's before hook");
    return this.#plane;
  }

  get admin(): Client {
    return client(this.plane.url, ADMIN_TOKEN);
  }

  get owner(): Client {
    return client(this.plane.url, OWNER_TOKEN);
  }

  /** A connection of the test's own to the control plane's database, opened on first use. */
  database(): Promise<OpenDatabase["db"]> {
    this.#inspect ??= inspectDatabase(this.databaseUrl);
    return this.#inspect.then((open) => open.db);
  }

  async boot(): Promise<void> {
    this.databaseUrl = await freshDatabaseUrl(this.dir);
    this.#plane = await spawnServer({
      DATABASE_URL: this.databaseUrl,
      VPS_EMBEDDED_HOSTS: "off",
      VPS_ADMIN_TOKEN: ADMIN_TOKEN,
      VPS_BOOTSTRAP_TOKEN: OWNER_TOKEN,
      ...this.#options.plane,
    });
  }

  /** Registers a host through the admin API: its id and the join token its agent starts with. */
  async register(name: string, location: string): Promise<{ id: number; token: string }> {
    const res = await this.admin.post("/api/v1/admin/hosts/", { name, location });
    assert.equal(res.status, 201, res.text);
    return { id: res.body.host.id, token: res.body.join_token };
  }

  /** An agent keeping its state in `stateDir`; the first start of a host needs VPS_JOIN_TOKEN in `env`. */
  async startAgent(stateDir: string, env: Record<string, string> = {}): Promise<SpawnedServer> {
    const agent = await spawnServer({
      VPS_ROLE: "agent",
      VPS_CONTROL_PLANE_URL: this.plane.url,
      VPS_AGENT_STATE_DIR: stateDir,
      DATABASE_URL: "unused-by-an-agent",
      ...this.#options.agent,
      ...env,
    });
    this.agents.push(agent);
    return agent;
  }

  /** Kills every process, drops the database and removes the folder; safe to call at any point. */
  async close(): Promise<void> {
    const children = this.#plane ? [...this.agents, this.#plane] : this.agents;
    for (const child of children) if (child.child.exitCode === null) child.child.kill("SIGKILL");
    await Promise.all(children.map((child) => child.exited));
    await this.#options.stopped?.();
    await (await this.#inspect?.catch(() => undefined))?.close();
    if (this.databaseUrl) await dropDatabase(this.databaseUrl);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A suite whose tests share one fleet, its control plane started before them and everything closed after;
 * `tests` registers the tests, and starts the agents it needs from them.
 */
export function agentFleetSuite(
  title: string,
  options: AgentFleetOptions,
  tests: (fleet: AgentFleet) => void,
): void {
  describe(title, { skip: options.skip ?? false }, () => {
    const fleet = new AgentFleet(options);
    before(() => fleet.boot());
    after(() => fleet.close());
    tests(fleet);
  });
}
