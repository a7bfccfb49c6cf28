import assert from "node:assert/strict";
import { test } from "node:test";
import {
  parseCpuQuantity,
  parseDeploymentSpec,
  type ScaleRule,
  scaleRuleOf,
} from "../../src/config/index.js";
import { Admission } from "../../src/engine/admission.js";
import { desiredInstances, nextCount, SCALE_DOWN_POLLS } from "../../src/engine/scaling.js";

const rule: ScaleRule = { min: 1, max: 4, pollingMs: 1000, target: 0.7, cpuCores: 1 };

test("the count follows the HPA's rule: ceil(current × utilization / target), within min and max, nothing inside 10 %", () => {
  // One instance with eight requests in flight or queued (slots 800 %) asks for the most there may be.
  assert.equal(desiredInstances(1, { slots: 8, cpu: 0.2 }, rule), 4);
  // Two instances at 100 % of their slots against a 70 % target: ceil(2 × 1 / 0.7) = 3.
  assert.equal(desiredInstances(2, { slots: 1, cpu: 0 }, rule), 3);
  // CPU counts as well as slots: the higher of the two decides.
  assert.equal(desiredInstances(2, { slots: 0.1, cpu: 1.4 }, rule), 4);
  // Within 10 % of the target the count stays.
  assert.equal(desiredInstances(3, { slots: 0.75, cpu: 0 }, rule), 3);
  assert.equal(desiredInstances(3, { slots: 0.65, cpu: 0 }, rule), 3);
  // Idle: down to min_instances, never below.
  assert.equal(desiredInstances(4, { slots: 0, cpu: 0 }, rule), 1);
  assert.equal(desiredInstances(1, { slots: 0, cpu: 0 }, { ...rule, min: 2 }), 2);
  // Exactly at a multiple of the target there is no extra instance from rounding.
  assert.equal(desiredInstances(2, { slots: 1.4, cpu: 0 }, rule), 4);
});

test("up at once, down only after the load has asked for less for SCALE_DOWN_POLLS intervals in a row", () => {
  assert.equal(nextCount(1, [4]), 4, "a step of load is met in the next interval");
  const quiet = Array.from({ length: SCALE_DOWN_POLLS - 1 }, () => 1);
  assert.equal(nextCount(4, quiet), 4, "a pause shorter than the window keeps the instances");
  assert.equal(nextCount(4, [...quiet, 1]), 1, "a whole window of quiet scales down");
  assert.equal(nextCount(4, [...quiet.slice(1), 3, 1]), 3, "down to the highest count the window asked for");
});

test("CPU requests read as Kubernetes writes them; a deployment scales only with target_utilization", () => {
  assert.equal(parseCpuQuantity("0.5"), 0.5);
  assert.equal(parseCpuQuantity("250m"), 0.25);
  assert.equal(parseCpuQuantity(2), 2);
  assert.equal(parseCpuQuantity("two"), undefined);
  assert.equal(parseCpuQuantity("0"), undefined);

  const base = {
    name: "blue",
    endpoint_name: "scaled",
    type: "kubernetes",
    model: { path: "./model" },
    resources: { requests: { cpu: "100m", memory: "0.5Gi" } },
  };
  const scaled = parseDeploymentSpec(
    {
      ...base,
      scale_settings: {
        type: "target_utilization",
        min_instances: 2,
        max_instances: 5,
        polling_interval: 3,
        target_utilization_percentage: 60,
      },
    },
    "blue.yml",
  ).spec;
  assert.equal(scaled.instance_count, 2, "it starts with min_instances");
  assert.deepEqual(scaleRuleOf(scaled), { min: 2, max: 5, pollingMs: 3000, target: 0.6, cpuCores: 0.1 });
  assert.equal(scaleRuleOf(parseDeploymentSpec(base, "blue.yml").spec), undefined);
  assert.equal(
    scaleRuleOf(parseDeploymentSpec({ ...base, scale_settings: { type: "default" } }, "blue.yml").spec),
    undefined,
  );
});

test("admission integrates the requests in flight and queued over time, which is what the slot utilization reads", async () => {
  const slot = { routable: true, inFlight: 0 };
  const admission = new Admission(() => [slot], 1, 4);
  const before = admission.demandArea();
  const first = await admission.acquire(1000);
  const queued = admission.acquire(1000);
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const during = admission.demandArea() - before;
  const elapsed = performance.now() - startedAt;
  // Two requests (one in flight, one queued) for the whole wait: the area grows at 2 per ms.
  assert.ok(during >= 2 * elapsed * 0.99, `${during} request·ms over ${elapsed} ms`);
  assert.ok(first.ok);
  first.release();
  const second = await queued;
  assert.ok(second.ok);
  second.release();
  const idle = admission.demandArea();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(admission.demandArea(), idle, "nothing in flight adds nothing");
  assert.equal(admission.limit, 8, "the 429 rule counts the instances it was given");
});
