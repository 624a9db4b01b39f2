import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import type { S3StoreSettings } from "../../src/store/image-store-settings.ts";
import { freePort } from "./spawned-server.ts";

const S3RVER = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");
const BUCKET = "images";

/**
 * An S3-protocol server (s3rver) in a process of its own, on a loopback port and a temporary directory, so that a
 * test can kill it mid-upload and start it again on the same port and data.
 */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** The store's settings for this server's bucket, under `prefix` ("" or ending in `/`). */
  settings(prefix?: string): S3StoreSettings;
  /** A plain S3 client of the bucket, to see or damage what a store wrote. */
  client: S3Client;
  /** Kills the server at once (SIGKILL), as a crash or a cut cable would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Kills it and removes its directory. */
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "vps-s3rver-"));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const started = spawn(
      process.execPath,
      [S3RVER, "-d", directory, "-a", "127.0.0.1", "-p", String(port), "-s", "--configure-bucket", BUCKET],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk;
        if (output.includes("S3rver listening on")) resolve();
      };
      started.stdout?.on("data", onData);
      started.stderr?.on("data", (chunk) => {
        output += chunk;
      });
      started.once("exit", (code, signal) =>
        reject(new Error(`s3rver exited (${code ?? signal}) before listening: ${output}`)),
      );
    });
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };

  await start();
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    endpoint,
    bucket: BUCKET,
    client,
    settings: (prefix = "") => ({ bucket: BUCKET, prefix, endpoint, region: "us-east-1", ...credentials }),
    kill,
    start,
    stop: async () => {
      client.destroy();
      await kill();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
