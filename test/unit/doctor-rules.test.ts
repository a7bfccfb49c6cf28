import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDeploymentSpec } from "../../src/config/index.js";
import { diagnoseDeployment } from "../../src/doctor/index.js";
import {
  blankEvidence,
  type DeploymentEvidence,
  type EngineEvent,
  type RecordedEvent,
} from "../../src/engine/index.js";

/** Evidence as the engine records it, for the rules that need numbers no corpus case can afford. */
function evidence(spec: Record<string, unknown>, more: Partial<DeploymentEvidence>): DeploymentEvidence {
  const { spec: parsed } = parseDeploymentSpec(
    { name: "blue", endpoint_name: "fin-behavior", model: "./model", instance_count: 1, ...spec },
    "test",
  );
  return { ...blankEvidence(parsed, 4 * 2 ** 30, "Failed"), ...more };
}

/** An event as the engine records it: its kind with its typed data, when, where, and a line for people. */
const recorded = (event: EngineEvent, instance: string): RecordedEvent => ({
  ...event,
  at: "2026-11-27T00:00:00.000Z",
  deployment: "blue",
  instance,
  message: event.kind,
});

const oom = (rssGiB: number) =>
  recorded({ kind: "OOMKilled", data: { rssBytes: rssGiB * 2 ** 30, limitBytes: 4 * 2 ** 30 } }, "blue-x-0");

test("OutOfMemory without an explicit limit names the smallest instance type with room for twice the measured peak", () => {
  const [d] = diagnoseDeployment(evidence({ instance_type: "Standard_F2s_v2" }, { events: [oom(5)] }));
  assert.equal(d!.code, "OutOfMemory");
  // 10 GiB needed: Standard_DS3_v2 (14 GiB) is the smallest that holds it.
  assert.deepEqual(d!.actions, [{ kind: "yaml", key: "instance_type", value: "Standard_DS3_v2" }]);
  // Past the largest size, the largest is as far as a fix can grow, and it says so.
  const [short] = diagnoseDeployment(evidence({ instance_type: "Standard_F2s_v2" }, { events: [oom(250)] }));
  assert.deepEqual(short!.actions, [{ kind: "yaml", key: "instance_type", value: "Standard_E64s_v3" }]);
  assert.match(short!.fix, /the largest instance type pier knows, 432 GiB, though twice what it had reached/);
  const [none] = diagnoseDeployment({
    ...evidence({ instance_type: "Standard_E64s_v3" }, { events: [oom(433)] }),
    memoryLimitBytes: 432 * 2 ** 30,
  });
  assert.deepEqual(none!.actions, [], "already the largest");
  assert.match(none!.fix, /No instance type holds/);
});

test("OutOfMemory with the allocation that failed in the log: the peak plus that allocation, not twice the peak", () => {
  // init() allocates 2 GiB at once: killed at 1 GiB, twice that (2 GiB) would fail again.
  const logs = [
    {
      source: "inference-server (blue-x-0)",
      path: "/tmp/inference-server.log",
      lines: [
        "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 2.00 GiB for an array with shape (268435456,) and data type float64",
      ],
    },
  ];
  const [d] = diagnoseDeployment({
    ...evidence({ instance_type: "Standard_DS1_v2" }, { events: [oom(1)], logs }),
    memoryLimitBytes: 1 * 2 ** 30,
  });
  // (1 + 2) GiB and a tenth more = 3.3 GiB: Standard_DS1_v2 (3.5 GiB) holds it.
  assert.deepEqual(d!.actions, [{ kind: "yaml", key: "instance_type", value: "Standard_DS1_v2" }]);
  assert.match(d!.fix, /what it had reached \(1024 MiB\) plus the 2048 MiB it was allocating/);
  const [explicit] = diagnoseDeployment({
    ...evidence({ type: "kubernetes", resources: { limits: { memory: "1Gi" } } }, { events: [oom(1)], logs }),
    memoryLimitBytes: 2 ** 30,
  });
  assert.deepEqual(explicit!.actions, [{ kind: "yaml", key: "resources.limits.memory", value: "3392Mi" }]);
});

test("a healthy deployment gets no diagnosis; request outcomes each get their own", () => {
  assert.deepEqual(
    diagnoseDeployment(
      evidence({ instance_type: "Standard_DS2_v2" }, { state: "Succeeded", outcomes: { 200: 50 } }),
    ),
    [],
  );
  const found = diagnoseDeployment(
    evidence(
      {
        instance_type: "Standard_DS2_v2",
        request_settings: { request_timeout_ms: 200, max_concurrent_requests_per_instance: 2 },
      },
      {
        state: "Succeeded",
        outcomes: { 200: 10, 408: 4, 429: 6, 424: 1 },
        latenciesMs: [120, 150, 180],
        lateAnswersMs: [450],
        peakConcurrentRequests: 12,
      },
    ),
  );
  assert.deepEqual(
    found.map((d) => d.code),
    ["RequestTimeout", "TooManyRequests", "ModelError"],
  );
  assert.deepEqual(found[0]!.actions, [
    { kind: "yaml", key: "request_settings.request_timeout_ms", value: 900 },
  ]);
  assert.deepEqual(found[1]!.actions, [
    { kind: "yaml", key: "request_settings.max_concurrent_requests_per_instance", value: 8 },
  ]);
});

test("probes: a liveness restart and an instance left Unready each get their own diagnosis; one Ready again does not", () => {
  const found = diagnoseDeployment(
    evidence(
      { instance_type: "Standard_DS2_v2" },
      {
        state: "Succeeded",
        events: [
          recorded(
            { kind: "ProbeFailed", data: { probe: "liveness", failures: 30, threshold: 30 } },
            "blue-a",
          ),
          recorded({ kind: "LivenessFailed", data: { failures: 30 } }, "blue-a"),
          recorded(
            { kind: "ProbeFailed", data: { probe: "readiness", failures: 30, threshold: 30 } },
            "blue-b",
          ),
          recorded({ kind: "Unready", data: { failures: 30 } }, "blue-b"),
          recorded({ kind: "Unready", data: { failures: 30 } }, "blue-c"),
          recorded({ kind: "ReadyAgain", data: { successes: 1 } }, "blue-c"),
        ],
      },
    ),
  );
  assert.deepEqual(
    found.map((d) => d.code),
    ["LivenessProbeFailed", "ReadinessProbeFailed"],
  );
  assert.match(found[1]!.cause, /^1 instance\(s\) stopped passing the readiness probe/);
  assert.deepEqual(found[1]!.actions, [{ kind: "yaml", key: "readiness_probe.timeout", value: 6 }]);
});

test("an instance that stopped answering is named with its process's state; one that answered again is not counted as out", () => {
  const ejected = (process: string, instance: string) =>
    recorded({ kind: "Ejected", data: { silentMs: 812, process } }, instance);
  const [stopped] = diagnoseDeployment(
    evidence(
      { instance_type: "Standard_DS2_v2", instance_count: 2 },
      {
        state: "Succeeded",
        events: [
          ejected("stopped", "blue-a"),
          ejected("sleeping", "blue-b"),
          recorded({ kind: "Recovered", data: { ejectedMs: 400 } }, "blue-b"),
        ],
      },
    ),
  );
  assert.equal(stopped!.code, "InstanceUnresponsive");
  assert.match(
    stopped!.cause,
    /^1 instance\(s\) stopped answering and are out of rotation now \(2 time\(s\) in all; process stopped, sleeping\)/,
  );
  assert.match(stopped!.fix, /kill -CONT/);
  assert.equal(stopped!.evidence.length, 2);
  const [stuck] = diagnoseDeployment(
    evidence(
      { instance_type: "Standard_DS2_v2" },
      { state: "Succeeded", events: [ejected("running", "blue-a")] },
    ),
  );
  assert.match(stuck!.fix, /answered nothing and used no CPU/);
});
