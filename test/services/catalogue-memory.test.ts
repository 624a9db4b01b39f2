import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Repositories } from "../../src/db/repositories/repositories.ts";
import { CatalogueMemory } from "../../src/services/catalogue-memory.ts";
import { suiteDatabase } from "../support/test-database.ts";

describe("the catalogue kept in memory", () => {
  const suite = suiteDatabase();
  let repos: Repositories;
  before(() => {
    repos = new Repositories(suite.database.db);
  });

  it("reads each plan, OS and location once, and one created later on first use", async () => {
    let reads = 0;
    const counted = new Proxy(repos.catalogue, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          reads++;
          return value.apply(target, args);
        };
      },
    });
    const memory = new CatalogueMemory({ catalogue: counted } as Repositories);
    const refs = { plan_id: 1, os_id: 3, location_id: 1 };
    await memory.learn([refs, refs, refs]);
    assert.equal(reads, 3, "one read each for the plan, the OS and the location");
    await memory.learn([refs]);
    assert.equal(reads, 3, "nothing read again");
    assert.equal(memory.plan(1).id, 1);
    assert.equal(memory.os(3).id, 3);

    const later = await repos.catalogue.createLocation("eu-north", "Stockholm", "SE");
    assert.deepEqual(await memory.locationByCode("eu-north"), later);
    await memory.learn([{ ...refs, location_id: later.id }]);
    assert.equal(memory.location(later.id).code, "eu-north");
  });

  it("does not remember a location code that does not exist yet", async () => {
    const memory = new CatalogueMemory(repos);
    assert.equal(await memory.locationByCode("ap-south"), undefined);
    await repos.catalogue.createLocation("ap-south", "Mumbai", "IN");
    assert.equal((await memory.locationByCode("ap-south"))?.code, "ap-south");
  });
});
