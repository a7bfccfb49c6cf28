/**
 * Training the financial-behavior model end to end: CSV → features → a split by row content → leakage
 * check → random search (k-fold CV AUC) → final forest → held-out metrics → ONNX export → MLflow
 * package → a check that ONNX Runtime reproduces the forest on the held-out rows.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { type Baseline, baselineOf } from "../baseline/index.js";
import { OnnxScorer } from "../runtime/index.js";
import { type Code, createRandom, PIER_VERSION, userError } from "../shared/index.js";
import { type CsvTable, loadCsvTable } from "./csv-table.js";
import {
  CATEGORICAL_INPUTS,
  deriveTarget,
  engineerInputs,
  fitPreprocessor,
  INPUT_SOURCE_COLUMNS,
  type InputColumns,
  NUMERIC_INPUTS,
  recordAt,
  targetRequirement,
  transformInputs,
} from "./features.js";
import { type ForestParams, fitForest, labelFromProbability, nodeCount, predictProba } from "./forest.js";
import { type ClassificationMetrics, classificationMetrics, rocAuc } from "./metrics.js";
import { writeModelPackage } from "./model-package.js";
import { exportForestPipeline, LABEL_OUTPUT, PROBABILITIES_OUTPUT } from "./onnx-export.js";
import { DEFAULT_FOREST_PARAMS, randomSearch } from "./search.js";
import { contentPlaces, contentTrainTestSplit } from "./split.js";

const LEAKAGE_AUC_THRESHOLD = 0.99;

export interface TrainOptions {
  dataPath: string;
  outDir: string;
  target?: string;
  seed?: number;
  /** Random-search iterations; 0 trains the seed's fixed settings. */
  search?: number;
  folds?: number;
  testFraction?: number;
  /** Replace an existing, non-empty output folder. */
  force?: boolean;
  /** Forest settings over the defaults (when there is no search). */
  params?: Partial<ForestParams>;
  onEvent?: (event: TrainEvent) => void;
}

export type TrainEvent =
  | { type: "phase"; phase: string; detail: string; elapsedMs: number }
  | { type: "search"; done: number; total: number; cvAuc: number; bestCvAuc: number }
  | { type: "warning"; code: Code; message: string };

export interface LeakageFinding {
  feature: string;
  auc: number;
}

export interface TrainReport {
  outDir: string;
  target: { name: string; description: string; positiveLabel: string; positives: number; rows: number };
  split: { train: number; test: number; testPositives: number };
  params: ForestParams;
  search: { iterations: number; folds: number; bestCvAuc: number | null };
  metrics: ClassificationMetrics;
  leakage: LeakageFinding[];
  forest: { trees: number; nodes: number };
  onnx: { bytes: number; maxProbabilityDifference: number; labelMismatches: number };
  timingsMs: Record<string, number>;
}

/** Single-input separability on the training rows: numbers by value, categories by their positive rate. */
export function singleFeatureAucs(
  inputs: InputColumns,
  y: Uint8Array,
  rows: ArrayLike<number>,
): LeakageFinding[] {
  const labels = Uint8Array.from({ length: rows.length }, (_, i) => y[rows[i]!]!);
  const findings: LeakageFinding[] = NUMERIC_INPUTS.map((feature, j) => {
    const column = inputs.numeric[j]!;
    const scores = Float64Array.from({ length: rows.length }, (_, i) => {
      const v = column[rows[i]!]!;
      return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
    });
    const auc = rocAuc(labels, scores);
    return { feature, auc: Math.max(auc, 1 - auc) };
  });
  CATEGORICAL_INPUTS.forEach((feature, j) => {
    const column = inputs.categorical[j]!;
    const totals = new Map<string | null, [number, number]>();
    for (let i = 0; i < rows.length; i++) {
      const key = column[rows[i]!] ?? null;
      const entry = totals.get(key) ?? [0, 0];
      entry[labels[i]!]! += 1;
      totals.set(key, entry);
    }
    const scores = Float64Array.from({ length: rows.length }, (_, i) => {
      const [negatives, positives] = totals.get(column[rows[i]!] ?? null)!;
      return positives / (positives + negatives);
    });
    const auc = rocAuc(labels, scores);
    findings.push({ feature, auc: Math.max(auc, 1 - auc) });
  });
  return findings;
}

function prepareOutDir(outDir: string, force: boolean): void {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    if (!force) {
      throw userError(
        "OutputExists",
        `${outDir} already exists and is not empty`,
        "Choose another --out folder, or pass --force to replace it.",
      );
    }
    rmSync(outDir, { recursive: true, force: true });
  }
  mkdirSync(outDir, { recursive: true });
}

/** Trains, exports and verifies; returns what happened, with metrics and timings. */
export async function trainFinancialModel(options: TrainOptions): Promise<TrainReport> {
  const targetName = options.target ?? "HighAmount";
  const seed = options.seed ?? 42;
  const iterations = options.search ?? 0;
  const folds = options.folds ?? 3;
  const emit = options.onEvent ?? (() => {});
  const timingsMs: Record<string, number> = {};
  let phaseStart = performance.now();
  const phaseDone = (phase: string, detail: string) => {
    const elapsedMs = performance.now() - phaseStart;
    timingsMs[phase] = elapsedMs;
    emit({ type: "phase", phase, detail, elapsedMs });
    phaseStart = performance.now();
  };
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw userError(
      "BadArgument",
      `--search must be a whole number ≥ 0, got ${iterations}`,
      "Use e.g. --search 20.",
    );
  }

  const requirement = targetRequirement(targetName);
  const table = loadCsvTable(
    options.dataPath,
    requirement ? [...INPUT_SOURCE_COLUMNS, requirement] : INPUT_SOURCE_COLUMNS,
  );
  const target = deriveTarget(table, targetName);
  const inputs = engineerInputs(table);
  const positives = target.y.reduce((sum, v) => sum + v, 0);
  phaseDone(
    "load",
    `${table.rowCount} rows from ${options.dataPath}; target ${target.description}: ${positives} positive`,
  );
  if (positives < 2 * folds || table.rowCount - positives < 2 * folds) {
    throw userError(
      "TargetTooRare",
      `Target ${targetName} has ${positives} positive and ${table.rowCount - positives} negative rows; training needs at least ${2 * folds} of each`,
      "Use more data or another --target.",
    );
  }

  const random = createRandom(seed);
  // Held-out rows are chosen by their content, not the seed: any two runs share their held-out rows
  // (those below the smaller fraction), so a champion is never scored on rows it was trained on.
  const testFraction = options.testFraction ?? 0.2;
  const split = contentTrainTestSplit(contentPlacesOf(table), testFraction);
  const testPositives = split.test.reduce((n, row) => n + target.y[row]!, 0);
  if (testPositives === 0 || testPositives === split.test.length)
    throw userError(
      "TargetTooRare",
      `The held-out ${Math.round(testFraction * 100)} % (${split.test.length} rows) has ${testPositives === 0 ? "no positive" : "only positive"} rows of ${targetName}`,
      "Use more data, a larger --test-fraction, or another --target.",
    );
  const pre = fitPreprocessor(inputs, split.train);
  const matrix = { values: transformInputs(pre, inputs), featureCount: pre.featureNames.length };
  const aucs = singleFeatureAucs(inputs, target.y, split.train);
  const leakage = aucs.filter((f) => f.auc >= LEAKAGE_AUC_THRESHOLD);
  for (const finding of leakage) {
    emit({
      type: "warning",
      code: "TargetLeakage",
      message: `'${finding.feature}' alone separates ${targetName} (single-feature AUC ${finding.auc.toFixed(4)}): the target is derived from it, so the model's scores say little about real-world skill`,
    });
  }
  phaseDone(
    "features",
    `${split.train.length} train / ${split.test.length} test rows, ${pre.featureNames.length} features`,
  );

  let params: ForestParams = { ...DEFAULT_FOREST_PARAMS, ...options.params };
  let bestCvAuc: number | null = null;
  if (iterations > 0) {
    // Trees are unaffected by the monotone scaling fitted on the whole training split, so the
    // folds can share one transformed matrix without leaking anything into the CV scores.
    let best = Number.NEGATIVE_INFINITY;
    const result = randomSearch(matrix, target.y, split.train, {
      iterations,
      folds,
      random: random.fork(),
      onCandidate: (done, total, cvAuc) => {
        best = Math.max(best, cvAuc);
        emit({ type: "search", done, total, cvAuc, bestCvAuc: best });
      },
    });
    params = result.best;
    bestCvAuc = result.bestCvAuc;
    phaseDone(
      "search",
      `${iterations} candidates × ${folds}-fold CV, best ROC AUC ${result.bestCvAuc.toFixed(4)}`,
    );
  }

  const forest = fitForest(matrix, target.y, split.train, params, random.int(0, 2 ** 31 - 1));
  const probabilities = predictProba(forest, matrix, split.test);
  const predicted = Uint8Array.from(probabilities, labelFromProbability);
  const testLabels = Uint8Array.from(split.test, (row) => target.y[row]!);
  const metrics = classificationMetrics(testLabels, predicted, probabilities);
  phaseDone(
    "fit",
    `${forest.trees.length} trees, ${nodeCount(forest)} nodes; held-out ROC AUC ${metrics.roc_auc.toFixed(4)}`,
  );

  const onnx = exportForestPipeline(pre, forest, {
    producerVersion: PIER_VERSION,
    metadata: {
      target: targetName,
      positive_label: target.positiveLabel,
      features: pre.featureNames.join(","),
    },
  });
  prepareOutDir(options.outDir, options.force ?? false);
  const testRecords = Array.from(split.test, (row) => recordAt(inputs, row));
  const baseline = trainingBaseline(inputs, split.train, probabilities, predicted, options.dataPath);
  writeModelPackage(options.outDir, {
    baseline,
    onnx,
    exampleRows: testRecords.slice(0, 3),
    metrics: {
      ...metrics,
      best_cv_roc_auc: bestCvAuc,
      target: targetName,
      target_definition: target.description,
      positive_label: target.positiveLabel,
      rows: { total: table.rowCount, train: split.train.length, test: split.test.length },
      params,
      leakage: leakage.map((f) => ({ feature: f.feature, single_feature_auc: f.auc })),
      seed,
      holdout: { method: HOLDOUT_METHOD, test_fraction: testFraction },
    },
    metadata: {
      target: targetName,
      positive_label: target.positiveLabel,
      // Which rows it never trained on: every row whose content place is below this fraction.
      holdout: `${HOLDOUT_METHOD}<${testFraction}`,
    },
  });
  phaseDone("export", `${options.outDir}: model.onnx ${onnx.length} bytes, MLmodel, env files`);

  const verification = await verifyOnnxParity(options.outDir, testRecords, probabilities, predicted);
  phaseDone(
    "verify",
    `ONNX Runtime agrees on ${split.test.length} held-out rows (max probability difference ${verification.maxProbabilityDifference.toExponential(1)})`,
  );

  return {
    outDir: options.outDir,
    target: {
      name: targetName,
      description: target.description,
      positiveLabel: target.positiveLabel,
      positives,
      rows: table.rowCount,
    },
    split: {
      train: split.train.length,
      test: split.test.length,
      testPositives: testLabels.reduce((s, v) => s + v, 0),
    },
    params,
    search: { iterations, folds, bestCvAuc },
    metrics,
    leakage,
    forest: { trees: forest.trees.length, nodes: nodeCount(forest) },
    onnx: { bytes: onnx.length, ...verification },
    timingsMs,
  };
}

/**
 * The baseline monitoring compares production with: the model inputs of the training rows, and the
 * model's answers on held-out rows under the names its answers carry (label, probabilities[k]).
 */
function trainingBaseline(
  inputs: InputColumns,
  trainRows: ArrayLike<number>,
  probabilities: Float64Array,
  predicted: Uint8Array,
  source: string,
): Baseline {
  const rows = Array.from(trainRows);
  const features: Record<string, { values: unknown[]; kind: "number" | "category" }> = {};
  NUMERIC_INPUTS.forEach((name, j) => {
    const column = inputs.numeric[j]!;
    features[name] = {
      values: rows.map((r) => (Number.isNaN(column[r]!) ? null : column[r]!)),
      kind: "number",
    };
  });
  CATEGORICAL_INPUTS.forEach((name, j) => {
    const column = inputs.categorical[j]!;
    features[name] = { values: rows.map((r) => column[r] ?? null), kind: "category" };
  });
  return baselineOf({
    source: `the training split of ${source}`,
    features,
    predictions: {
      [LABEL_OUTPUT]: { values: Array.from(predicted), kind: "category" },
      [`${PROBABILITIES_OUTPUT}[0]`]: { values: Array.from(probabilities, (p) => 1 - p), kind: "number" },
      [`${PROBABILITIES_OUTPUT}[1]`]: { values: Array.from(probabilities), kind: "number" },
    },
  });
}

/** Scores the held-out rows with ONNX Runtime and compares with the TypeScript forest. */
async function verifyOnnxParity(
  dir: string,
  records: Record<string, unknown>[],
  probabilities: Float64Array,
  predicted: Uint8Array,
): Promise<{ maxProbabilityDifference: number; labelMismatches: number }> {
  const scorer = await OnnxScorer.load(dir);
  try {
    const rows = await scorer.score(records);
    let maxProbabilityDifference = 0;
    let labelMismatches = 0;
    rows.forEach((row, i) => {
      const p = (row.probabilities as number[])[1]!;
      maxProbabilityDifference = Math.max(maxProbabilityDifference, Math.abs(p - probabilities[i]!));
      if (row.label !== predicted[i]) labelMismatches++;
    });
    if (labelMismatches > 0 || maxProbabilityDifference > 1e-5) {
      throw userError(
        "OnnxParityFailed",
        `The exported model disagrees with the trained forest on ${labelMismatches} labels (max probability difference ${maxProbabilityDifference})`,
        "This is a bug in pier's ONNX export; report it with the training command.",
      );
    }
    return { maxProbabilityDifference, labelMismatches };
  } finally {
    await scorer.close();
  }
}

/** How held-out rows are chosen, as a model package records it (MLmodel metadata.holdout). */
const HOLDOUT_METHOD = "content-fnv1a";

/** The content places of a table's rows, over the columns every target's model reads. */
const contentPlacesOf = (table: CsvTable) =>
  contentPlaces(
    table.numbers,
    table.strings,
    INPUT_SOURCE_COLUMNS.map((c) => c.name),
    table.rowCount,
  );

/** A model package's held-out fraction, from its MLmodel metadata; undefined when it does not say. */
export function holdoutFractionOf(metadata: Record<string, unknown> | undefined): number | undefined {
  const holdout = metadata?.holdout;
  const m = typeof holdout === "string" ? new RegExp(`^${HOLDOUT_METHOD}<([0-9.]+)$`).exec(holdout) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Rows of a data file that no model trained with a held-out fraction of `testFraction` (or more)
 * was trained on: the model's inputs, the labels, and which rows they are (for checks).
 */
export function heldOutRows(options: Pick<TrainOptions, "dataPath" | "target" | "testFraction">): {
  records: Record<string, unknown>[];
  labels: Uint8Array;
  rows: Int32Array;
} {
  const targetName = options.target ?? "HighAmount";
  const requirement = targetRequirement(targetName);
  const table = loadCsvTable(
    options.dataPath,
    requirement ? [...INPUT_SOURCE_COLUMNS, requirement] : INPUT_SOURCE_COLUMNS,
  );
  const target = deriveTarget(table, targetName);
  const inputs = engineerInputs(table);
  const split = contentTrainTestSplit(contentPlacesOf(table), options.testFraction ?? 0.2);
  return {
    records: Array.from(split.test, (row) => recordAt(inputs, row)),
    labels: Uint8Array.from(split.test, (row) => target.y[row]!),
    rows: split.test,
  };
}

export interface Evaluation {
  metrics: ClassificationMetrics;
  /** ROC curve points (false positive rate, true positive rate), at most 101. */
  roc: [number, number][];
  confusion: { tp: number; fp: number; tn: number; fn: number };
  /** Drop in ROC AUC when each input is shuffled (permutation importance). */
  importances: Record<string, number>;
}

function rocCurve(labels: Uint8Array, scores: Float64Array): [number, number][] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  const positives = labels.reduce((s, v) => s + v, 0) || 1;
  const negatives = labels.length - positives || 1;
  const points: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  const step = Math.max(1, Math.floor(order.length / 100));
  order.forEach((i, k) => {
    if (labels[i]) tp++;
    else fp++;
    if (k % step === step - 1 || k === order.length - 1) points.push([fp / negatives, tp / positives]);
  });
  return points;
}

/** Scores the held-out rows with a pier-trained ONNX model folder: metrics, ROC, confusion, importances. */
export async function evaluateModel(
  dir: string,
  heldOut: { records: Record<string, unknown>[]; labels: Uint8Array },
  seed = 7,
): Promise<Evaluation> {
  const scorer = await OnnxScorer.load(dir);
  try {
    const scoreAll = async (records: Record<string, unknown>[]) => {
      const rows = await scorer.score(records);
      return Float64Array.from(rows, (row) => (row.probabilities as number[])[1]!);
    };
    const probabilities = await scoreAll(heldOut.records);
    const predicted = Uint8Array.from(probabilities, labelFromProbability);
    const metrics = classificationMetrics(heldOut.labels, predicted, probabilities);
    const confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
    predicted.forEach((p, i) => {
      const y = heldOut.labels[i];
      if (p === 1 && y === 1) confusion.tp++;
      else if (p === 1) confusion.fp++;
      else if (y === 1) confusion.fn++;
      else confusion.tn++;
    });
    const importances: Record<string, number> = {};
    const random = createRandom(seed);
    for (const name of [...NUMERIC_INPUTS, ...CATEGORICAL_INPUTS]) {
      const column = heldOut.records.map((r) => r[name]);
      for (let i = column.length - 1; i > 0; i--) {
        const j = random.int(0, i);
        [column[i], column[j]] = [column[j], column[i]];
      }
      const shuffled = heldOut.records.map((r, i) => ({ ...r, [name]: column[i] }));
      importances[name] = metrics.roc_auc - rocAuc(heldOut.labels, await scoreAll(shuffled));
    }
    return { metrics, roc: rocCurve(heldOut.labels, probabilities), confusion, importances };
  } finally {
    await scorer.close();
  }
}
