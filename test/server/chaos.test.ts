/**
 * The CI-sized part of the reliability suite (`npm run chaos` runs it at full size), with pier built in
 * this process: an instance killed and one frozen under load, a model store damaged while pier is
 * down, a run() killed for its memory. No request may be lost, and no 5xx where none is allowed. (pier
 * itself killed under load needs a real process: test/e2e/crash.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ChaosReport, instanceFaults, outOfMemoryInRun, storeCorruption } from "../chaos/scenarios.js";
import { trainedWorkspace } from "../helpers.js";

const size = { seconds: 2, clients: 8 };
let work: { dir: string; model: string; cleanup: () => void };
before(async () => {
  work = await trainedWorkspace("pier-chaos-", 300);
});
after(() => work.cleanup());

function held(report: ChaosReport): void {
  console.log(`${report.scenario}: ${JSON.stringify(report.figures)}`);
  assert.deepEqual(report.failures, [], report.scenario);
}

test("an instance killed, then one frozen, under load: no request lost, the frozen one ejected and named", async (t) => {
  for (const report of await instanceFaults(t, work, size)) held(report);
});

test("a model blob damaged while pier is down: named, repaired by registering again, served after the next start", async (t) => {
  held(await storeCorruption(t, work));
});

test("run() killed for its memory mid-request: 502 at once and OutOfMemory", async (t) => {
  held(await outOfMemoryInRun(t, work));
});
