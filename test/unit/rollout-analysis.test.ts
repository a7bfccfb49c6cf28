/**
 * A rollout's judgement, in-process: how two deployments' answers compare whatever their shape, what a
 * step's window passes, fails or leaves insufficient, the steps of each strategy, and the rollout file.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseRolloutSpec } from "../../src/config/index.js";
import { judge, StepWindow } from "../../src/rollout/analysis.js";
import { compareAnswers } from "../../src/rollout/compare.js";
import { planSteps, stepLabel } from "../../src/rollout/record.js";
import { PierError } from "../../src/shared/index.js";
import { tempDir } from "../helpers.js";

const spec = (doc: Record<string, unknown> = {}) => parseRolloutSpec(doc, {}, "rollout.yml", "/");

test("answers compare output by output, whatever shape each host gives them", () => {
  const records = (rows: [number, number][]) =>
    JSON.stringify(rows.map(([label, p]) => ({ label, probabilities: [1 - p, p] })));
  const same = compareAnswers(
    records([
      [0, 0.1],
      [1, 0.9],
    ]),
    records([
      [0, 0.1],
      [1, 0.9],
    ]),
    new Map([["probabilities", "score"]]),
  );
  assert.deepEqual(same, {
    comparable: true,
    outputs: [
      { name: "label", kind: "label", flips: 0, values: 2, deltas: [] },
      { name: "probabilities", kind: "score", flips: 0, values: 4, deltas: [0, 0, 0, 0] },
    ],
  });
  const moved = compareAnswers(
    records([
      [0, 0.1],
      [1, 0.9],
    ]),
    records([
      [1, 0.6],
      [1, 0.8],
    ]),
  );
  assert.ok(moved.comparable);
  assert.equal(moved.outputs[0]!.flips, 1, "one label of two flipped");
  assert.deepEqual(
    moved.outputs[1]!.deltas.map((d) => Number(d.toFixed(2))),
    [0.5, 0.5, 0.1, 0.1],
    "|a − b| for values within ±1",
  );
  // Large values move relatively: 1000 → 1100 is 0.0909. (Undeclared outputs of whole numbers are labels.)
  assert.equal(
    (compareAnswers("[1000, 50]", "[1100, 50]") as { outputs: { kind: string }[] }).outputs[0]!.kind,
    "label",
  );
  const regression = compareAnswers("[1000.5, 50.25]", "[1100.5, 50.25]");
  assert.ok(regression.comparable);
  assert.equal(regression.outputs[0]!.kind, "score");
  assert.deepEqual(
    regression.outputs[0]!.deltas.map((d) => Number(d.toFixed(4))),
    [0.0909, 0],
  );
  // MLflow's {"predictions": …}, a ZipMap's class → probability maps, and a Python model answering labels only.
  const zipmap = JSON.stringify({ predictions: [{ label: "yes", probabilities: { no: 0.2, yes: 0.8 } }] });
  const zipmapOther = JSON.stringify([{ label: "no", probabilities: { yes: 0.3, no: 0.7 } }]);
  const z = compareAnswers(zipmap, zipmapOther);
  assert.ok(z.comparable);
  assert.deepEqual(
    z.outputs.map((o) => [o.name, o.kind, o.flips]),
    [
      ["label", "label", 1],
      ["probabilities", "score", 0],
    ],
  );
  const labelsOnly = compareAnswers(
    records([
      [0, 0.1],
      [1, 0.9],
    ]),
    "[0, 0]",
  );
  assert.ok(labelsOnly.comparable);
  assert.deepEqual(
    labelsOnly.outputs.map((o) => [o.name, o.flips]),
    [["label", 1]],
    "paired with the first output",
  );
  assert.deepEqual(compareAnswers('{"a": [1]}', '{"b": [1]}'), {
    comparable: false,
    why: "the answers have different outputs: [a] vs [b]",
  });
  assert.equal(compareAnswers("[1, 2]", "[1]").comparable, false);
  assert.deepEqual(compareAnswers("ok", "ok"), { comparable: true, outputs: [] });
});

test("a step's window: insufficient below the minimum sample, fails on any check with its numbers, passes only at the end of the bake", () => {
  const s = spec();
  const window = new StepWindow();
  for (let i = 0; i < 20; i++) {
    window.record("candidate", { ok: true, ms: 2 });
    window.record("stable", { ok: true, ms: 2 });
  }
  const early = judge(window.stats, s.analysis, { final: true, compare: false });
  assert.equal(early.verdict, "insufficient");
  assert.equal(early.reason, "insufficient data: 20 requests on the new deployment, 50 needed");
  for (let i = 0; i < 80; i++) {
    window.record("candidate", { ok: true, ms: 2 + (i % 3) });
    window.record("stable", { ok: true, ms: 2 });
  }
  assert.equal(
    judge(window.stats, s.analysis, { final: false, compare: false }).verdict,
    "pending",
    "not before the bake ends",
  );
  assert.equal(judge(window.stats, s.analysis, { final: true, compare: false }).verdict, "pass");
  // Slower by a ratio above 1.5 but by less than the 20 ms slack: still a pass.
  const quietMachine = new StepWindow();
  for (let i = 0; i < 60; i++) {
    quietMachine.record("candidate", { ok: true, ms: 3 });
    quietMachine.record("stable", { ok: true, ms: 1 });
  }
  const quiet = judge(quietMachine.stats, s.analysis, { final: true, compare: false });
  assert.equal(quiet.verdict, "pass");
  assert.match(
    quiet.checks.find((c) => c.metric === "latency p50 ratio")!.line,
    /ratio 3\.00 > 1\.5 \(within the 20 ms slack\)/,
  );
  // 40 ms slower: fails, with the values next to the threshold.
  const slow = new StepWindow();
  for (let i = 0; i < 60; i++) {
    slow.record("candidate", { ok: true, ms: 45 });
    slow.record("stable", { ok: true, ms: 5 });
  }
  const slowVerdict = judge(slow.stats, s.analysis, { final: true, compare: false });
  assert.equal(slowVerdict.verdict, "fail");
  assert.equal(slowVerdict.reason, "latency p50 45.0 ms vs 5.0 ms: ratio 9.00 > 1.5");
  // A step where the stable serves nothing is measured against its latencies from before.
  const alone = new StepWindow();
  for (let i = 0; i < 60; i++) alone.record("candidate", { ok: true, ms: 45 });
  assert.equal(
    judge(alone.stats, s.analysis, { final: true, compare: false, baselineMs: Array(60).fill(5) }).verdict,
    "fail",
  );

  // Failures fail before the bake ends, once the sample is there; the stable's own rate raises the bar.
  const failing = new StepWindow();
  for (let i = 0; i < 60; i++) {
    failing.record("candidate", i % 4 === 0 ? { ok: false, kind: "424" } : { ok: true, ms: 2 });
    failing.record("stable", { ok: true, ms: 2 });
  }
  const errors = judge(failing.stats, s.analysis, { final: false, compare: false });
  assert.equal(errors.verdict, "fail");
  assert.equal(errors.reason, "error rate 0.25 > 0.01 over 60 requests (15 × 424)");
  // An incident fails at once, whatever the sample.
  const crashed = new StepWindow();
  crashed.incident("had Restarting on green-0: pid 7 ended: exit code 3");
  assert.equal(
    judge(crashed.stats, s.analysis, { final: false, compare: false }).reason,
    "the new deployment had Restarting on green-0: pid 7 ended: exit code 3",
  );
});

test("answers that disagree fail the step; too few compared answers are not a pass", () => {
  const s = spec({ analysis: { min_requests: 10, min_compared: 10 } });
  const window = new StepWindow();
  const stable = JSON.stringify([{ label: 0, probabilities: [0.9, 0.1] }]);
  for (let i = 0; i < 20; i++) {
    window.record("candidate", { ok: true, ms: 1 });
    window.record("stable", { ok: true, ms: 1 });
    if (i < 5)
      window.compare(
        compareAnswers(stable, JSON.stringify([{ label: i < 2 ? 1 : 0, probabilities: [0.9, 0.1] }])),
      );
  }
  const few = judge(window.stats, s.analysis, { final: true, compare: true });
  assert.equal(few.verdict, "insufficient");
  assert.equal(few.reason, "insufficient data: 5 compared answers, 10 needed");
  for (let i = 0; i < 5; i++) window.compare(compareAnswers(stable, stable));
  const flipped = judge(window.stats, s.analysis, { final: false, compare: true });
  assert.equal(flipped.verdict, "fail");
  assert.equal(flipped.reason, "label flip rate (label) 0.2 > 0.05 over 10 compared requests");
  const shapes = new StepWindow();
  shapes.compare(compareAnswers('{"a": [1]}', '{"b": [1]}'));
  assert.match(
    judge(shapes.stats, s.analysis, { final: false, compare: true }).reason,
    /could not be compared with the stable's: the answers have different outputs/,
  );
});

test("strategies plan their steps as SageMaker names them; the rollout file is strict and its bounds are SageMaker's", (t) => {
  const labels = (doc: Record<string, unknown>) => {
    const s = spec(doc);
    return planSteps(s).map((step) => stepLabel(step, s));
  };
  assert.deepEqual(labels({}), ["smoke", "shadow 20 %", "canary 10 %", "all 100 %", "promote"]);
  assert.deepEqual(
    labels({ strategy: { type: "linear", linear_step_size: 30 }, shadow: { mirror_percent: 0 } }),
    ["smoke", "linear 30 %", "linear 60 %", "linear 90 %", "all 100 %", "promote"],
  );
  assert.deepEqual(labels({ strategy: { type: "all_at_once" } }), [
    "smoke",
    "shadow 20 %",
    "all 100 %",
    "promote",
  ]);
  const refused = (doc: Record<string, unknown>) => {
    try {
      spec(doc);
    } catch (error) {
      assert.ok(error instanceof PierError);
      return `${error.code}: ${error.summary}`;
    }
    return "accepted";
  };
  assert.match(
    refused({ strategy: { canary_size: 60 } }),
    /^BadArgument: rollout.yml is not a valid rollout: strategy.canary_size: .*50/,
  );
  assert.match(refused({ shadow: { mirror_percent: 80 } }), /shadow.mirror_percent/);
  assert.match(refused({ strategy: { wait_interval_seconds: 4000 } }), /strategy.wait_interval_seconds/);
  assert.match(refused({ analysis: { max_error_rat: 0.1 } }), /analysis.max_error_rat: not a known key/);
  // Flags win over the file; smoke files become bodies.
  const dir = tempDir(t);
  writeFileSync(join(dir, "smoke.json"), JSON.stringify({ input_data: [[1, 2]] }));
  const merged = parseRolloutSpec(
    {
      strategy: { type: "linear", wait_interval_seconds: 300 },
      smoke: { requests: [{ file: "smoke.json" }, { input_data: [[3, 4]] }] },
    },
    { waitSeconds: 5, keepOld: true },
    join(dir, "rollout.yml"),
    dir,
  );
  assert.equal(merged.strategy.type, "linear");
  assert.equal(merged.strategy.wait_interval_seconds, 5);
  assert.equal(merged.keep_old, true);
  assert.deepEqual(merged.smoke.requests, [{ input_data: [[1, 2]] }, { input_data: [[3, 4]] }]);
});
