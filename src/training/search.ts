/**
 * Random hyperparameter search over the seed project's ranges, each candidate scored by the mean
 * ROC AUC of stratified k-fold cross-validation on the training rows only.
 */
import type { Random } from "../shared/index.js";
import { type ClassWeight, type ForestParams, fitForest, type Matrix, predictProba } from "./forest.js";
import { rocAuc } from "./metrics.js";
import { stratifiedFolds } from "./split.js";

/** The seed's fixed "compatible retrain" settings, used when no search runs. */
export const DEFAULT_FOREST_PARAMS: ForestParams = {
  nEstimators: 100,
  maxDepth: 10,
  minSamplesSplit: 5,
  minSamplesLeaf: 2,
  bootstrap: true,
  classWeight: "balanced",
  maxFeatures: "sqrt",
};

const CLASS_WEIGHTS: ClassWeight[] = ["balanced", "balanced_subsample", null];

/** One draw from the seed's ranges (n_estimators 50–199, max_depth 3–19, …). */
export function sampleForestParams(random: Random): ForestParams {
  return {
    nEstimators: random.int(50, 199),
    maxDepth: random.int(3, 19),
    minSamplesSplit: random.int(2, 19),
    minSamplesLeaf: random.int(1, 19),
    bootstrap: random.next() < 0.5,
    classWeight: random.pick(CLASS_WEIGHTS),
    maxFeatures: "sqrt",
  };
}

export interface SearchResult {
  best: ForestParams;
  bestCvAuc: number;
  candidates: { params: ForestParams; cvAuc: number }[];
}

export interface SearchOptions {
  iterations: number;
  folds: number;
  random: Random;
  onCandidate?: (done: number, total: number, cvAuc: number) => void;
}

export function crossValidatedAuc(
  matrix: Matrix,
  y: Uint8Array,
  params: ForestParams,
  folds: { fit: Int32Array; validate: Int32Array }[],
  seed: number,
): number {
  let total = 0;
  for (const fold of folds) {
    const forest = fitForest(matrix, y, fold.fit, params, seed);
    const scores = predictProba(forest, matrix, fold.validate);
    total += rocAuc(
      Uint8Array.from(fold.validate, (row) => y[row]!),
      scores,
    );
  }
  return total / folds.length;
}

/** Runs the search; ties keep the earlier candidate. */
export function randomSearch(
  matrix: Matrix,
  y: Uint8Array,
  rows: ArrayLike<number>,
  options: SearchOptions,
): SearchResult {
  const folds = stratifiedFolds(y, rows, options.folds, options.random);
  const candidates: SearchResult["candidates"] = [];
  for (let i = 0; i < options.iterations; i++) {
    const params = sampleForestParams(options.random);
    const cvAuc = crossValidatedAuc(matrix, y, params, folds, options.random.int(0, 2 ** 31 - 1));
    candidates.push({ params, cvAuc });
    options.onCandidate?.(i + 1, options.iterations, cvAuc);
  }
  const best = candidates.reduce((a, b) => (b.cvAuc > a.cvAuc ? b : a));
  return { best: best.params, bestCvAuc: best.cvAuc, candidates };
}
