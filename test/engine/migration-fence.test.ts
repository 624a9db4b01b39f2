import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { pino } from "pino";
import { type OpenDatabase, openDatabase } from "../../src/db/database.ts";
import { systemClock } from "../../src/domain/clock.ts";
import { SimDriver } from "../../src/drivers/sim/sim-driver.ts";
import { SimMachineStore } from "../../src/drivers/sim/sim-machine-store.ts";
import { HttpHostLink } from "../../src/engine/http-host-link.ts";
import { OperationRunner } from "../../src/engine/operation-runner.ts";
import { OperationWorker } from "../../src/engine/operation-worker.ts";
import { type Client, client, eventually, type Json, SAMPLE_CREATE } from "../support/client.ts";
import { SettableClock } from "../support/settable-clock.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

const CAPACITY = { vcpus: 64, memory_mb: 262_144, disk_gb: 4000 };
const CLAIM = "/api/v1/agent/operations/claim";
const DOWN_AFTER_MS = 30_000;
const UNAVAILABLE_AFTER_MS = 300_000;
const LEASE_MS = 6000;
/** Far past the step's deadline, its lease and its host's heartbeat: the control plane gives the migration up. */
const GIVE_UP = UNAVAILABLE_AFTER_MS + DOWN_AFTER_MS + LEASE_MS;
const DISK = randomBytes(65_536);
const DISK_SUM = { size: DISK.length, sha256: createHash("sha256").update(DISK).digest("hex") };

interface Host {
  id: number;
  agent: Client;
  credential: string;
}

/**
 * A migration's target cut off from the control plane (a real control plane over HTTP; the target a real worker,
 * host link and sim driver reaching it through a proxy that can drop or hold its calls, the network partition)
 * while the control plane gives the migration up and restarts the server on its source: the target's copy
 * never runs after that.
 */
describe("a migration's target cut off from the control plane", () => {
  const clock = new SettableClock();
  const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
  let t: TestApp;
  let a: Host;
  let b: Host;
  let network: Partition;
  let source: DiskSource;
  let machines: OpenDatabase;
  let driver: SimDriver;
  let worker: OperationWorker | undefined;

  before(async () => {
    t = await startTestApp(
      {
        VPS_EMBEDDED_HOSTS: "off",
        VPS_HOST_DOWN_AFTER_MS: String(DOWN_AFTER_MS),
        VPS_HOST_UNAVAILABLE_AFTER_MS: String(UNAVAILABLE_AFTER_MS),
        VPS_LEASE_MS: String(LEASE_MS),
      },
      clock,
    );
    await t.app.engine.hostUnavailable.stop();
    network = await Partition.to(t.url);
    source = await DiskSource.start();
    a = await joinedHost("hv-a");
    b = await joinedHost("hv-b");
    machines = await openDatabase(join(t.dir, "target-machines.db"));
    driver = new SimDriver({ machines: new SimMachineStore(machines.db), clock: systemClock, delayMs: 20 });
  });
  afterEach(async () => {
    network.heal();
    await worker?.stop(1000);
    worker = undefined;
  });
  after(async () => {
    await machines.close();
    await network.close();
    await source.close();
    await t.close();
  });

  const heartbeat = { capacity: CAPACITY, agent_version: "0.1.0", driver: "sim" };

  async function joinedHost(name: string): Promise<Host> {
    const registered = await t.admin.post("/api/v1/admin/hosts/", { name, location: "us-west" });
    assert.equal(registered.status, 201, registered.text);
    const joined = await t.anonymous.post("/api/v1/agent/join", {
      join_token: registered.body.join_token,
      ...heartbeat,
    });
    assert.equal(joined.status, 201, joined.text);
    const host = {
      id: registered.body.host.id as number,
      agent: client(t.url, joined.body.credential),
      credential: joined.body.credential as string,
    };
    await beat(host);
    return host;
  }

  async function beat(...hosts: Host[]): Promise<void> {
    for (const host of hosts) {
      const res = await host.agent.post("/api/v1/agent/heartbeat", {
        ...heartbeat,
        transfer_url: source.url,
      });
      assert.equal(res.status, 200, res.text);
    }
  }

  /** Claims the host's one due operation of `kind` through the agent API and ends it with `result`. */
  async function run(host: Host, kind: string, result: Json = { outcome: {} }): Promise<void> {
    const claimed = await host.agent.post(CLAIM, { limit: 10, wait_seconds: 5 });
    assert.equal(claimed.status, 200, claimed.text);
    const op = claimed.body.operations.find((o: Json) => o.kind === kind);
    assert.ok(op, `no ${kind} in ${claimed.text}`);
    const ended = await host.agent.post(`/api/v1/agent/operations/${op.id}/result`, {
      lease: { owner: op.owner, attempt: op.attempt },
      ...result,
    });
    assert.equal(ended.status, 200, ended.text);
  }

  /** The target's agent: its worker, link and driver, every call of the link through the partition. */
  function targetAgent(host: Host): OperationWorker {
    const link = new HttpHostLink({ url: network.url, credential: host.credential, log, attempts: 2 });
    const started = new OperationWorker({
      link,
      runner: new OperationRunner({ driver, store: t.app.store, shutdownTimeoutMs: 1000 }),
      clock: systemClock,
      log,
      concurrency: 1,
      leaseMs: LEASE_MS,
      pollMs: 100,
      claimWaitMs: 1000,
    });
    worker = started;
    return started;
  }

  const sweep = () => t.app.engine.hostUnavailable.runOnce();
  const server = async (id: number) => (await t.owner.get(`/api/v1/servers/${id}/`)).body;
  const placedOn = async (id: number) => (await t.app.repos.servers.findById(id))?.host_id;
  const migration = async (id: number) => (await t.admin.get(`/api/v1/admin/migrations/${id}/`)).body;
  const onTarget = (id: number) => driver.info(String(id));

  /**
   * A running server on the source, its migrate_out done (the disk exported), its migrate_in due on the
   * target: the worker-driven host, whichever placement picked.
   */
  async function migrating(name: string) {
    await beat(a, b);
    const created = await t.owner.post("/api/v1/servers/", { ...SAMPLE_CREATE, name });
    assert.equal(created.status, 201, created.text);
    const id: number = created.body.id;
    const [from, to] = (await placedOn(id)) === a.id ? [a, b] : [b, a];
    await run(from, "create");
    const moving = await t.admin.post(`/api/v1/admin/servers/${id}/migrate/`);
    assert.equal(moving.status, 202, moving.text);
    await run(from, "migrate_out", { outcome: { disk: DISK_SUM } });
    assert.equal((await server(id)).status, "starting");
    return { id, from, to, migrationId: moving.body.id as number };
  }

  /** The control plane, not hearing from the target, gives the migration up and starts the server on its source. */
  async function controlPlaneGivesUp(id: number, from: Host, migrationId: number): Promise<void> {
    clock.advance(GIVE_UP);
    await beat(from);
    assert.equal(await sweep(), 1, "the migrate_in given up");
    assert.equal((await migration(migrationId)).error?.code, "host_unavailable");
    await run(from, "start");
    assert.equal((await server(id)).status, "active");
    assert.equal(await placedOn(id), from.id, "the server runs on its source");
  }

  it("never starts the copy when the control plane gave the migration up while the disk was coming", async () => {
    const { id, from, to, migrationId } = await migrating("cut-while-copying");
    source.hold();
    await targetAgent(to).start();
    await eventually(async () => source.requests > 0 || undefined, 10_000, "the target fetching the disk");

    network.cut();
    await controlPlaneGivesUp(id, from, migrationId);
    source.release();

    await eventually(async () => (worker?.inFlight === 0 ? true : undefined), 20_000, "the attempt's end");
    assert.equal(await onTarget(id), "missing", "the imported copy destroyed, never started");
    assert.equal((await server(id)).status, "active");
  });

  it("stops and destroys the started copy whose result the control plane refused, having given the migration up", async () => {
    const { id, from, to, migrationId } = await migrating("refused-result");
    network.holdResults();
    await targetAgent(to).start();
    await eventually(async () => network.held || undefined, 10_000, "the target sending its result");
    assert.equal(await onTarget(id), "running", "the copy started under a renewed lease");

    await controlPlaneGivesUp(id, from, migrationId);
    network.heal();

    await eventually(
      async () => ((await onTarget(id)) === "missing" ? true : undefined),
      10_000,
      "the fence",
    );
    assert.equal(await placedOn(id), from.id);
    assert.equal((await server(id)).status, "active");
  });

  it("stops the started copy whose result cannot be delivered before its lease runs out, before the control plane can give up", async () => {
    const { id, from, to, migrationId } = await migrating("undelivered-result");
    network.holdResults();
    await targetAgent(to).start();
    await eventually(async () => network.held || undefined, 10_000, "the target sending its result");
    assert.equal(await onTarget(id), "running");

    // The target never hears back; its lease runs out (here real time; the control plane's clock is moved later).
    await eventually(
      async () => (worker?.inFlight === 0 ? true : undefined),
      3 * LEASE_MS,
      "the attempt's end",
    );
    assert.equal(await onTarget(id), "stopped", "fenced before the lease ran out");

    await controlPlaneGivesUp(id, from, migrationId);
    assert.equal(await onTarget(id), "stopped", "the copy never runs beside the source's");

    // Heard from again, the target destroys its copy: the clean-up the abandoned migration queued there.
    network.heal();
    await beat(to);
    await eventually(
      async () => ((await onTarget(id)) === "missing" ? true : undefined),
      10_000,
      "the clean-up",
    );
  });
});

/**
 * The network between the target and the control plane: a proxy that forwards, drops every call (`cut`), or
 * forwards all but the results of operations, which it holds until healed (a result lost on the way back).
 */
class Partition {
  readonly #server: Server;
  readonly url: string;
  #mode: "open" | "cut" | "hold" = "open";
  readonly #held: (() => void)[] = [];

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async to(upstream: string): Promise<Partition> {
    const target = new URL(upstream);
    let self: Partition | undefined;
    const server = createServer((req, res) => {
      const forward = () => {
        if (req.destroyed || res.destroyed) return;
        const out = request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on("error", () => res.destroy());
        // A call its agent gave up on is given up upstream too.
        res.on("close", () => out.destroy());
        req.pipe(out);
      };
      if (self && self.#mode === "cut") return req.socket.destroy();
      if (self && self.#mode === "hold" && req.url?.endsWith("/result")) {
        req.pause();
        self.#held.push(forward);
        return;
      }
      forward();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new Partition(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  get held(): boolean {
    return this.#held.length > 0;
  }

  cut(): void {
    this.#mode = "cut";
  }

  holdResults(): void {
    this.#mode = "hold";
  }

  /** Forwards again, the held calls first. */
  heal(): void {
    this.#mode = "open";
    for (const forward of this.#held.splice(0)) forward();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** The source agent's transfer listener: serves the exported disk, or holds it back until released. */
class DiskSource {
  readonly #server: Server;
  readonly url: string;
  requests = 0;
  #gate: Promise<void> = Promise.resolve();
  #open: () => void = () => {};

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(): Promise<DiskSource> {
    let self: DiskSource | undefined;
    const server = createServer((_req, res) => {
      if (!self) return res.destroy();
      self.requests++;
      void self.#gate.then(() => {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.end(DISK);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    self = new DiskSource(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open();
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
