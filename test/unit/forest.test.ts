import assert from "node:assert/strict";
import { test } from "node:test";
import { createRandom } from "../../src/shared/index.js";
import { fitForest, predictProba, rocAuc } from "../../src/training/index.js";

const PARAMS = {
  nEstimators: 30,
  maxDepth: 6,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  bootstrap: true,
  classWeight: null,
  maxFeatures: "sqrt" as const,
};

/** Two informative features (x0 + x1 > 1) and two noise features. */
function problem(n: number, seed: number) {
  const random = createRandom(seed);
  const values = new Float64Array(n * 4);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < 4; f++) values[i * 4 + f] = random.next();
    y[i] = values[i * 4]! + values[i * 4 + 1]! > 1 ? 1 : 0;
  }
  return { matrix: { values, featureCount: 4 }, y };
}

test("ROC AUC matches hand-computed values, ties sharing ranks", () => {
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  assert.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5);
  assert.equal(rocAuc([1, 1, 0], [0.9, 0.8, 0.1]), 1);
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
});

test("the forest learns a two-feature rule and generalizes to new rows", () => {
  const train = problem(1500, 1);
  const test = problem(500, 2);
  const rows = Int32Array.from({ length: 1500 }, (_, i) => i);
  const forest = fitForest(train.matrix, train.y, rows, PARAMS, 3);
  const probabilities = predictProba(forest, test.matrix);
  assert.ok(rocAuc(test.y, probabilities) > 0.97);
  const accuracy = test.y.filter((y, i) => (probabilities[i]! > 0.5 ? 1 : 0) === y).length / test.y.length;
  assert.ok(accuracy > 0.9, `accuracy ${accuracy}`);
});

test("the forest is deterministic for a seed and varies with it", () => {
  const { matrix, y } = problem(400, 5);
  const rows = Int32Array.from({ length: 400 }, (_, i) => i);
  const a = predictProba(fitForest(matrix, y, rows, PARAMS, 11), matrix);
  const b = predictProba(fitForest(matrix, y, rows, PARAMS, 11), matrix);
  const c = predictProba(fitForest(matrix, y, rows, PARAMS, 12), matrix);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("limits hold: max_depth and min_samples_leaf bound every tree", () => {
  const { matrix, y } = problem(600, 9);
  const rows = Int32Array.from({ length: 600 }, (_, i) => i);
  const forest = fitForest(matrix, y, rows, { ...PARAMS, maxDepth: 2, bootstrap: false }, 1);
  for (const tree of forest.trees) {
    // depth ≤ 2 means at most 7 nodes
    assert.ok(tree.feature.length <= 7, `tree has ${tree.feature.length} nodes`);
  }
  const stump = fitForest(matrix, y, rows, { ...PARAMS, minSamplesLeaf: 400, bootstrap: false }, 1);
  for (const tree of stump.trees)
    assert.equal(tree.feature.length, 1, "no split can leave 400 rows on both sides");
});

test("balanced class weights raise the scores of a rare class", () => {
  const random = createRandom(4);
  const n = 2000;
  const values = new Float64Array(n * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    values[i * 2] = random.next();
    values[i * 2 + 1] = random.next();
    y[i] = values[i * 2]! > 0.9 && random.next() < 0.5 ? 1 : 0; // rare and noisy
  }
  const matrix = { values, featureCount: 2 };
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const plain = predictProba(fitForest(matrix, y, rows, { ...PARAMS, maxDepth: 3 }, 2), matrix);
  const balanced = predictProba(
    fitForest(matrix, y, rows, { ...PARAMS, maxDepth: 3, classWeight: "balanced" }, 2),
    matrix,
  );
  const meanOfPositives = (p: Float64Array) =>
    p.filter((_, i) => y[i] === 1).reduce((a, b) => a + b, 0) / y.filter((v) => v).length;
  assert.ok(meanOfPositives(balanced) > meanOfPositives(plain) + 0.2);
});
