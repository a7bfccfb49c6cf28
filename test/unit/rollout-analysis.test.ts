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
import {
  createRandom,
  levelOf,
  meanBounds,
  PierError,
  proportionDifference,
  quantileBounds,
  wilson,
} from "../../src/shared/index.js";
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
  assert.equal(early.reason, "not enough evidence: 20 requests on the new deployment, 50 needed");
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
    /latency p50 3\.0 ms vs 1\.0 ms \(99\.5 % bounds: new ≥ 3\.0, stable ≤ 1\.0\): ratio ≥ 3\.00 > 1\.5, but within the 20 ms slack/,
  );
  // 40 ms slower: fails, with the values next to the threshold.
  const slow = new StepWindow();
  for (let i = 0; i < 60; i++) {
    slow.record("candidate", { ok: true, ms: 45 });
    slow.record("stable", { ok: true, ms: 5 });
  }
  const slowVerdict = judge(slow.stats, s.analysis, { final: true, compare: false });
  assert.equal(slowVerdict.verdict, "fail");
  assert.equal(
    slowVerdict.reason,
    "latency p50 45.0 ms vs 5.0 ms (99.5 % bounds: new ≥ 45.0, stable ≤ 5.0): ratio ≥ 9.00 > 1.5",
  );
  // A step where the stable serves nothing is measured against its latencies from before.
  const alone = new StepWindow();
  for (let i = 0; i < 60; i++) alone.record("candidate", { ok: true, ms: 45 });
  assert.equal(
    judge(alone.stats, s.analysis, { final: true, compare: false, baselineMs: Array(60).fill(5) }).verdict,
    "fail",
  );

  // Failures fail before the bake ends when the bound says so (99.95 % while the bake goes on).
  const failing = new StepWindow();
  for (let i = 0; i < 60; i++) {
    failing.record("candidate", i % 4 === 0 ? { ok: false, kind: "424" } : { ok: true, ms: 2 });
    failing.record("stable", { ok: true, ms: 2 });
  }
  const errors = judge(failing.stats, s.analysis, { final: false, compare: false });
  assert.equal(errors.verdict, "fail");
  assert.match(
    errors.reason,
    /^errors 15 of 60 \(15 × 424\) vs the stable's 0 of 60: excess 99\.95 % lower bound 0\.0\d+ > 0\.01$/,
  );
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
        compareAnswers(stable, JSON.stringify([{ label: i < 1 ? 1 : 0, probabilities: [0.9, 0.1] }])),
      );
  }
  const few = judge(window.stats, s.analysis, { final: true, compare: true });
  assert.equal(few.verdict, "insufficient");
  assert.equal(few.reason, "not enough evidence: 5 compared answers, 10 needed");
  // 1 flip of 10: past 0.05, but a 5 % flip rate gives that often enough: undecided, the bake goes on.
  for (let i = 0; i < 5; i++) window.compare(compareAnswers(stable, stable));
  const unsure = judge(window.stats, s.analysis, { final: true, compare: true });
  assert.equal(unsure.verdict, "insufficient");
  assert.match(unsure.reason, /^not enough evidence yet: label flip rate \(label\) 0\.1 \(1 of 10 values/);
  // 9 of 40: beyond chance, even while the bake goes on (99.95 %).
  for (let i = 0; i < 30; i++)
    window.compare(
      compareAnswers(
        stable,
        i % 4 === 0 ? JSON.stringify([{ label: 1, probabilities: [0.9, 0.1] }]) : stable,
      ),
    );
  const flipped = judge(window.stats, s.analysis, { final: false, compare: true });
  assert.equal(flipped.verdict, "fail");
  assert.match(
    flipped.reason,
    /^label flip rate \(label\) 0\.225 \(9 of 40 values in 40 compared requests; 99\.95 % lower bound 0\.0\d+\) > 0\.05$/,
  );
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

/** A seeded stream of latencies like a model's on a shared machine: a floor, a spread, rare spikes. */
function latencyStream(seed: number, scale = 1) {
  const random = createRandom(seed);
  return () => {
    const u = random.next();
    const spike = random.next() < 0.02 ? 30 + random.next() * 40 : 0;
    return scale * (2 + -Math.log(1 - u) * 3) + spike;
  };
}

test("the same model twice (A/A) is never rolled back by chance: 300 windows of a busy machine, errors and spikes alike on both sides", () => {
  const s = spec();
  let failed = 0;
  let passed = 0;
  for (let run = 0; run < 300; run++) {
    const window = new StepWindow();
    const random = createRandom(run);
    // The machine's load slows both alike, differently in each window.
    const busy = 1 + random.next() * 4;
    const candidate = latencyStream(run * 2 + 1, busy);
    const stable = latencyStream(run * 2 + 2, busy);
    const requests = 60 + Math.floor(random.next() * 400);
    for (let i = 0; i < requests; i++) {
      window.record(
        "candidate",
        random.next() < 0.01 ? { ok: false, kind: "5xx" } : { ok: true, ms: candidate() },
      );
      for (let k = 0; k < 4; k++)
        window.record(
          "stable",
          random.next() < 0.01 ? { ok: false, kind: "5xx" } : { ok: true, ms: stable() },
        );
      const answer = JSON.stringify([{ label: 0, probabilities: [0.8, 0.2] }]);
      window.compare(compareAnswers(answer, answer));
    }
    // Looked at as a bake is: many times on the way, once at the end.
    for (let look = 0; look < 20; look++)
      if (judge(window.stats, s.analysis, { final: false, compare: true }).verdict === "fail") failed++;
    const end = judge(window.stats, s.analysis, { final: true, compare: true });
    if (end.verdict === "fail") failed++;
    if (end.verdict === "pass") passed++;
  }
  assert.equal(failed, 0, "no false rollback");
  // The rest are undecided (a few errors more on one side than the other): their bakes go on.
  assert.ok(passed >= 240, `passed ${passed} of 300; the rest wait for more evidence`);
});

test("defaults from measured retrains: a retrain's answers pass, another target's fail, a crash or errors fail, 429s of its own admission are capacity", () => {
  const s = spec();
  const random = createRandom(7);
  const answer = (label: number, p: number) => JSON.stringify([{ label, probabilities: [1 - p, p] }]);
  /** A window where the new model answers like `model` does on the stable's probabilities. */
  const compared = (model: (p: number) => { label: number; p: number }, n = 400) => {
    const window = new StepWindow();
    for (let i = 0; i < n; i++) {
      const p = random.next();
      const mine = model(p);
      window.record("candidate", { ok: true, ms: 3 });
      window.record("stable", { ok: true, ms: 3 });
      window.compare(
        compareAnswers(
          answer(p > 0.5 ? 1 : 0, p),
          answer(mine.label, mine.p),
          new Map([["probabilities", "score"]]),
        ),
      );
    }
    return judge(window.stats, s.analysis, { final: true, compare: true });
  };
  // A retrain with another seed (measured: mean |Δp| up to 0.050, p99 up to 0.29, 0.05 % of labels flipped).
  const retrain = compared((p) => {
    const q = Math.min(1, Math.max(0, p + (random.next() - 0.5) * 0.1 + (random.next() < 0.01 ? 0.25 : 0)));
    return { label: p > 0.5 ? 1 : 0, p: q };
  });
  assert.equal(retrain.verdict, "pass", retrain.reason);
  // The other target's model on the same inputs (measured: 10.8 % of labels flipped, p99 |Δp| 0.91).
  const otherTarget = compared((p) => {
    const flip = random.next() < 0.108;
    return { label: (p > 0.5 ? 1 : 0) ^ (flip ? 1 : 0), p: flip ? 1 - p : p };
  });
  assert.equal(otherTarget.verdict, "fail");
  assert.match(otherTarget.reason, /^label flip rate|relative \|Δ\|/);
  // Errors: one of 60 against none of 240 is chance; a quarter is not.
  const errors = (every: number) => {
    const window = new StepWindow();
    for (let i = 0; i < 240; i++) {
      if (i < 60)
        window.record("candidate", i % every === 0 ? { ok: false, kind: "424" } : { ok: true, ms: 3 });
      window.record("stable", { ok: true, ms: 3 });
    }
    return judge(window.stats, s.analysis, { final: true, compare: false });
  };
  assert.equal(errors(60).verdict, "insufficient", "1 of 60: past 0.01, not beyond chance: more evidence");
  assert.equal(errors(4).verdict, "fail");
  // 429s of the new deployment's own admission are capacity, named with the YAML change.
  const crowded = new StepWindow();
  for (let i = 0; i < 100; i++) {
    crowded.record("candidate", i % 3 === 0 ? { ok: false, kind: "429" } : { ok: true, ms: 3 });
    crowded.record("stable", { ok: true, ms: 3 });
  }
  const capacity = judge(crowded.stats, s.analysis, {
    final: false,
    compare: false,
    capacity: {
      slots: 1,
      limit: 2,
      stablePeak: 64,
      fix: "request_settings.max_concurrent_requests_per_instance: 64 in green's YAML",
    },
  });
  assert.equal(capacity.verdict, "fail");
  assert.match(
    capacity.reason,
    /^capacity: 34 of 100 requests turned away with 429 by the new deployment's own admission \(1 at once, 2 in flight or queued, while the stable served up to 64 at once\).*max_concurrent_requests_per_instance: 64/,
  );
  assert.ok(
    capacity.checks.find((c) => c.metric === "error rate excess")!.ok !== false,
    "capacity is not counted as the model's errors",
  );
});

test("confidence bounds: Wilson, Newcombe, order statistics, the mean; each names its level", () => {
  // Wilson's interval of 0 of 100 at 95 % two-sided (z 1.96): 0 to 0.037.
  const none = wilson(0, 100, 1.96);
  assert.equal(none.low, 0);
  assert.equal(Number(none.high.toFixed(3)), 0.037);
  const d = proportionDifference(10, 100, 2, 100, 1.96);
  assert.ok(d.low > 0 && d.low < 0.08 && d.high > 0.08, JSON.stringify(d));
  const sorted = Array.from({ length: 1000 }, (_, i) => i + 1);
  const median = quantileBounds(sorted, 0.5, 2.576);
  assert.ok(median.low! < 500 && median.high! > 500 && median.high! - median.low! < 100);
  assert.equal(
    quantileBounds(sorted.slice(0, 100), 0.99, 2.576).high,
    undefined,
    "no p99 bound from 100 values",
  );
  const mean = meanBounds([1, 2, 3, 4, 5], 1.96);
  assert.equal(mean.mean, 3);
  assert.deepEqual([levelOf(2.576), levelOf(3.291), levelOf(1.645)], ["99.5 %", "99.95 %", "95 %"]);
});
