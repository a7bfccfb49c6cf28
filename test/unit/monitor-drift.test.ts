/**
 * Drift and data quality, in-process: the metrics Azure names on known distributions, verdicts that
 * know their sample size, and quality rates measured against what the baseline itself had.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { baselineOf, profileCategories, profileNumbers } from "../../src/baseline/index.js";
import { columnDrift, columnQuality } from "../../src/monitor/drift.js";
import { reportHtml } from "../../src/monitor/index.js";
import { deploymentSignals } from "../../src/monitor/signals.js";
import { createRandom } from "../../src/shared/index.js";

const normals = (n: number, mean: number, sd: number, seed: number) => {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => mean + sd * random.normal());
};
const categories = (n: number, weights: number[], seed: number) => {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => random.weighted(["a", "b", "c"], weights));
};

test("numbers: the normalized Wasserstein distance is the mean shift in standard deviations", () => {
  const base = profileNumbers(normals(5000, 10, 2, 1));
  const same = columnDrift("x", base, normals(1000, 10, 2, 2));
  assert.equal(same.metric, "normalized_wasserstein_distance");
  assert.ok(same.value < 0.1, `undrifted NWD ${same.value}`);
  assert.equal(same.verdict, "no drift");
  const shifted = columnDrift("x", base, normals(1000, 11, 2, 3));
  assert.ok(Math.abs(shifted.value - 0.5) < 0.06, `a shift of 0.5 sd gives NWD ${shifted.value}`);
  assert.equal(shifted.verdict, "drift");
  assert.ok(shifted.population_stability_index > 0.2, `PSI ${shifted.population_stability_index}`);
  assert.ok(same.population_stability_index < 0.05, `PSI ${same.population_stability_index}`);
});

test("categories: Jensen–Shannon distance, 0 for the same mix and up to 1 for disjoint ones", () => {
  const base = profileCategories(categories(3000, [1, 1, 1], 4));
  const same = columnDrift("c", base, categories(800, [1, 1, 1], 5));
  assert.equal(same.metric, "jensen_shannon_distance");
  assert.equal(same.verdict, "no drift");
  const moved = columnDrift("c", base, categories(800, [6, 2, 2], 6));
  assert.ok(moved.value > 0.15 && moved.value < 0.4, `JSD ${moved.value}`);
  assert.equal(moved.verdict, "drift");
  const unseen = columnDrift("c", base, Array(100).fill("z"));
  assert.ok(unseen.value > 0.99, `all-new categories: JSD ${unseen.value}`);
});

test("verdicts know their sample size: thin windows are insufficient, noisy ones only possible", () => {
  const base = profileNumbers(normals(5000, 0, 1, 7));
  assert.equal(columnDrift("x", base, normals(12, 3, 1, 8)).verdict, "insufficient data");
  // 40 rows of the baseline's own distribution often sit over 0.1 by chance: never called drift.
  let drift = 0;
  let possible = 0;
  for (let seed = 0; seed < 40; seed++) {
    const verdict = columnDrift("x", base, normals(40, 0, 1, 100 + seed)).verdict;
    if (verdict === "drift") drift++;
    if (verdict === "possible drift") possible++;
  }
  assert.ok(drift <= 3, `${drift} of 40 undrifted thin windows called drift`);
  assert.ok(possible >= 1, "some thin windows cross the threshold and say possible drift");
  // A clear shift on the same 40 rows is drift.
  assert.equal(columnDrift("x", base, normals(40, 1.5, 1, 9)).verdict, "drift");
});

test("data quality: nulls, type errors and out-of-range values beyond what the baseline had", () => {
  const base = profileNumbers(normals(2000, 50, 5, 10));
  const clean = columnQuality(base, normals(500, 50, 5, 11));
  assert.deepEqual(
    clean.map((r) => [r.metric, r.violated]),
    [
      ["null_value_rate", false],
      ["data_type_error_rate", false],
      ["out_of_bounds_rate", false],
    ],
  );
  const dirty = columnQuality(base, [
    ...normals(400, 50, 5, 12),
    ...Array(50).fill(null),
    ...Array(20).fill("n/a"),
    ...Array(30).fill(500),
  ]);
  const byMetric = Object.fromEntries(dirty.map((r) => [r.metric, r]));
  assert.equal(byMetric.null_value_rate!.violated, true);
  assert.equal(byMetric.null_value_rate!.value, 0.1);
  assert.equal(byMetric.data_type_error_rate!.violated, true);
  assert.equal(byMetric.out_of_bounds_rate!.violated, true);
  // A baseline that had 10 % nulls: the same rate in production is no violation.
  const withNulls = profileNumbers([...normals(900, 0, 1, 13), ...Array(100).fill(null)]);
  assert.equal(
    columnQuality(withNulls, [...normals(450, 0, 1, 14), ...Array(50).fill(null)])[0]!.violated,
    false,
  );
  // Categories: one never seen is out of bounds.
  const cats = profileCategories(categories(1000, [1, 1, 1], 15));
  assert.equal(
    columnQuality(cats, [...categories(200, [1, 1, 1], 16), ...Array(40).fill("q")])[2]!.violated,
    true,
  );
});

test("a replayed request is one observation: the noise floor counts distinct rows, not repeats", () => {
  const base = profileNumbers(normals(5000, 0, 1, 11));
  // 60 rows of the baseline's own distribution, replayed 300 times: 18,000 rows, 60 distinct.
  let replayedDrift = 0;
  let countedAsNew = 0;
  for (let seed = 0; seed < 20; seed++) {
    const sample = normals(60, 0, 1, 200 + seed);
    const replayed = Array.from({ length: 300 }, () => sample).flat();
    const honest = columnDrift("x", base, replayed, undefined, 60);
    assert.equal(honest.rows, 18_000);
    assert.equal(honest.effective_rows, 60);
    if (honest.verdict === "drift") replayedDrift++;
    if (columnDrift("x", base, replayed).verdict === "drift") countedAsNew++;
  }
  assert.ok(replayedDrift <= 1, `${replayedDrift} of 20 replays of undrifted rows called drift`);
  assert.ok(countedAsNew > replayedDrift, "counted as 18,000 independent rows, chance looks like drift");
  // Real drift is drift however often its rows repeat.
  const shifted = normals(60, 1.5, 1, 300);
  assert.equal(columnDrift("x", base, Array(300).fill(shifted).flat(), undefined, 60).verdict, "drift");
});

const WINDOW_START = Date.parse("2026-12-07T10:00:00Z");

/** A deployment's signals over a 10-minute window of captured inputs of x, against a baseline of seed `seed`. */
function windowSignals(seed: number, inputs: number[], distinctRows: number) {
  const baseline = baselineOf({ source: "test", features: { x: { values: normals(5000, 0, 1, seed) } } });
  return deploymentSignals({
    endpoint: "fin",
    deployment: "blue",
    model: { name: "m", version: 1 },
    from: WINDOW_START,
    to: WINDOW_START + 600_000,
    capturing: true,
    baseline: { baseline, origin: "test" },
    captured: {
      inputs: inputs.map((x) => ({ x })),
      rowsInWindow: inputs.length,
      distinctRows,
      times: inputs.map((_, i) => WINDOW_START + i * 2),
      outputs: new Map(),
      outputTimes: [],
      records: inputs.length,
      skipped: 0,
      files: inputs.length ? 10 : 0,
      truncated: false,
    },
    traffic: [],
  });
}

test("a busy window's signals hold: 300,000 captured rows evaluated without running out of stack, drift over time included", () => {
  const values = normals(1000, 0, 1, 22);
  const signals = windowSignals(
    21,
    Array.from({ length: 300_000 }, (_, i) => values[i % 1000]!),
    1000,
  );
  assert.equal(signals.drift_over_time.slots.length, 12);
  assert.equal(signals.data_drift[0]!.effective_rows, 1000);
  assert.equal(signals.summary.verdict, "no drift");
});

test("a window with no rows reads as no data: its drift and quality cells are '–', never 0.000", () => {
  const signals = windowSignals(31, [], 0);
  const html = reportHtml({
    endpoint: "fin",
    generatedAt: new Date(WINDOW_START).toISOString(),
    window: {
      from: new Date(WINDOW_START).toISOString(),
      to: new Date(WINDOW_START + 600_000).toISOString(),
    },
    deployments: [signals],
    traffic: { blue: 100 },
    alerts: [],
  });
  const cells = [...html.matchAll(/<td class="num[^"]*"[^>]*>([^<]*)<\/td>/g)].map((m) => m[1]);
  assert.ok(cells.length > 0, "the report has its tables");
  assert.ok(!cells.some((c) => /^0\.0+( %)?$/.test(c!)), `no zero measured on no rows: ${cells.join(" | ")}`);
  assert.ok(cells.includes("–"));
});
