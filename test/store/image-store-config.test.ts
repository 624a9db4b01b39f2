import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { createImageStore } from "../../src/store/create-image-store.ts";
import { DirectoryImageStore } from "../../src/store/directory-image-store.ts";
import { S3ImageStore } from "../../src/store/s3-image-store.ts";
import { type S3Server, startS3Server } from "../support/s3-server.ts";
import { call, diskBytes, sha256Of } from "./image-store-contract.ts";

const SECRET = "s3cr3t-never-shown";

describe("VPS_IMAGE_STORE and the VPS_S3_* settings", () => {
  let server: S3Server;
  const scratch = mkdtempSync(join(tmpdir(), "vps-image-store-config-"));
  before(async () => {
    server = await startS3Server();
  });
  after(async () => {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("is a directory under data/ by default, like the other data paths", () => {
    assert.deepEqual(loadConfig({}).imageStore, { kind: "directory", root: "data/image-store" });
    assert.deepEqual(loadConfig({ VPS_IMAGE_STORE: "/mnt/shared/images" }).imageStore, {
      kind: "directory",
      root: "/mnt/shared/images",
    });
  });

  it("a directory store made from the settings keeps images there", async () => {
    const config = loadConfig({ VPS_IMAGE_STORE: join(scratch, "images") });
    const store = createImageStore(config.imageStore);
    assert.ok(store instanceof DirectoryImageStore);
    const written = await store.put("backups/1/a", diskBytes(2), call());
    assert.equal(
      (await new DirectoryImageStore(join(scratch, "images")).stat("backups/1/a"))?.sha256,
      written.sha256,
    );
  });

  it("s3://bucket/prefix with an endpoint and credentials is a bucket of that server, under that prefix", async () => {
    const env = {
      VPS_IMAGE_STORE: `s3://${server.bucket}/vps/images/`,
      VPS_S3_ENDPOINT: `${server.endpoint}/`,
      VPS_S3_ACCESS_KEY_ID: "S3RVER",
      VPS_S3_SECRET_ACCESS_KEY: "S3RVER",
    };
    const { imageStore } = loadConfig(env);
    assert.deepEqual(imageStore, {
      kind: "s3",
      bucket: server.bucket,
      prefix: "vps/images/",
      endpoint: server.endpoint,
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
    });
    const store = createImageStore(imageStore);
    assert.ok(store instanceof S3ImageStore);
    const written = await store.put("backups/2/a", diskBytes(3), call());
    assert.deepEqual(await sha256Of(await store.get("backups/2/a", call())), written);
    // The same bucket under another prefix is another store.
    assert.deepEqual(await new S3ImageStore(server.settings("vps/images/")).list(""), [
      { ...(await store.stat("backups/2/a")), key: "backups/2/a" },
    ]);
    assert.deepEqual(await new S3ImageStore(server.settings("other/")).list(""), []);
    assert.equal(
      loadConfig({ ...env, VPS_IMAGE_STORE: `s3://${server.bucket}`, VPS_S3_REGION: "eu-central-1" })
        .imageStore.kind,
      "s3",
    );
  });

  it("refuses a bad value with a ConfigError that never shows the secret", () => {
    const s3 = {
      VPS_S3_ENDPOINT: "http://127.0.0.1:9000",
      VPS_S3_ACCESS_KEY_ID: "id",
      VPS_S3_SECRET_ACCESS_KEY: SECRET,
    };
    const bad: Record<string, string>[] = [
      { ...s3, VPS_IMAGE_STORE: "s3://" },
      { ...s3, VPS_IMAGE_STORE: "s3://Upper_Case/x" },
      { ...s3, VPS_IMAGE_STORE: "s3://bucket/../up" },
      { ...s3, VPS_IMAGE_STORE: "s3://bucket/a//b" },
      { ...s3, VPS_IMAGE_STORE: "https://bucket.example.com/x" },
      { ...s3, VPS_IMAGE_STORE: "s3://bucket", VPS_S3_ENDPOINT: "127.0.0.1:9000" },
      { ...s3, VPS_IMAGE_STORE: "s3://bucket", VPS_S3_REGION: "US East" },
      { ...s3, VPS_IMAGE_STORE: "s3://bucket", VPS_S3_ACCESS_KEY_ID: "" },
      { VPS_IMAGE_STORE: "s3://bucket", VPS_S3_ACCESS_KEY_ID: "id" },
    ];
    for (const env of bad) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && !err.message.includes(SECRET),
        JSON.stringify(env),
      );
    }
  });
});
