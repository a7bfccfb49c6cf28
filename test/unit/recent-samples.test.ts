import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentSamples } from "../../src/shared/index.js";

test("recent samples keep the last N values, the oldest replaced first", () => {
  const samples = new RecentSamples(3);
  assert.deepEqual(samples.values(), []);
  for (const v of [1, 2]) samples.push(v);
  assert.deepEqual(samples.values(), [1, 2]);
  for (const v of [3, 4, 5]) samples.push(v);
  assert.deepEqual([...samples.values()].sort(), [3, 4, 5]);
});
