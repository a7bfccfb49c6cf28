import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { OnnxScorer } from "../../src/runtime/index.js";
import {
  BANKING_COLUMNS,
  engineerInputs,
  exportForestPipeline,
  fitForest,
  fitPreprocessor,
  heldOutRows,
  holdoutFractionOf,
  INPUT_SOURCE_COLUMNS,
  loadCsvTable,
  predictProba,
  recordAt,
  synthesizeBankingRecords,
  trainFinancialModel,
  transformInputs,
  writeCsv,
} from "../../src/training/index.js";
import { cli, tempDir } from "../helpers.js";

let shared: string;
let csv: string;

before(() => {
  shared = mkdtempSync(join(tmpdir(), "pier-train-"));
  csv = join(shared, "banking.csv");
  writeCsv(csv, BANKING_COLUMNS, synthesizeBankingRecords({ rows: 2000, seed: 42 }));
});
after(() => rmSync(shared, { recursive: true, force: true }));

test("pier train writes an MLflow model package and warns about the leaked default target", async (t) => {
  const out = join(tempDir(t), "model");
  const result = await cli(["train", "--data", csv, "--out", out, "--search", "2", "-o", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);

  // Progress: a line per phase and a bar for the search.
  for (const phase of ["load", "features", "search", "fit", "export", "verify"]) {
    assert.match(result.stderr, new RegExp(`✔ ${phase}`));
  }
  assert.match(result.stderr, /search +\[█+\] 2\/2/);
  assert.match(result.stderr, /⚠ TargetLeakage: 'Transaction Amount' alone separates HighAmount/);
  assert.deepEqual(
    report.leakage.map((f: { feature: string }) => f.feature),
    ["Transaction Amount"],
  );
  for (const key of ["accuracy", "precision", "recall", "f1_score", "roc_auc"]) {
    assert.ok(report.metrics[key] >= 0 && report.metrics[key] <= 1, key);
  }
  assert.ok(report.search.bestCvAuc > 0.9);
  // Held out by content: about a fifth of the 2000 rows, with both classes.
  assert.ok(Math.abs(report.split.test - 400) < 70, `${report.split.test} held-out rows`);
  assert.ok(report.split.testPositives > 5 && report.split.testPositives < report.split.test);

  for (const file of [
    "MLmodel",
    "model.onnx",
    "input_example.json",
    "metrics.json",
    "conda.yaml",
    "python_env.yaml",
    "requirements.txt",
  ]) {
    assert.ok(existsSync(join(out, file)), file);
  }
  const mlmodel = parse(readFileSync(join(out, "MLmodel"), "utf8"));
  assert.equal(mlmodel.flavors.onnx.data, "model.onnx");
  assert.equal(mlmodel.flavors.python_function.loader_module, "mlflow.onnx");
  assert.deepEqual(mlmodel.flavors.python_function.env, {
    conda: "conda.yaml",
    virtualenv: "python_env.yaml",
  });
  assert.deepEqual(mlmodel.saved_input_example_info, {
    artifact_path: "input_example.json",
    type: "dataframe",
    pandas_orient: "split",
  });
  assert.ok(mlmodel.model_size_bytes > report.onnx.bytes);
  const inputs = JSON.parse(mlmodel.signature.inputs);
  assert.deepEqual(
    inputs.map((c: { name: string; type: string }) => `${c.name}:${c.type}`),
    [
      "Age:double",
      "Transaction Amount:double",
      "Account Balance:double",
      "AccountAgeDays:double",
      "TransactionHour:double",
      "TransactionDayOfWeek:double",
      "Transaction Type:string",
      "Gender:string",
    ],
  );
  const example = JSON.parse(readFileSync(join(out, "input_example.json"), "utf8"));
  assert.equal(example.columns.length, 8);
  assert.ok(example.data.length >= 1);
  for (const line of readFileSync(join(out, "requirements.txt"), "utf8").trim().split("\n")) {
    assert.match(line, /^[a-z-]+==\d+(\.\d+)+$/, `exact pin: ${line}`);
  }
  assert.match(readFileSync(join(out, "conda.yaml"), "utf8"), /- python=3\.11\.\d+/);
  const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
  assert.equal(metrics.best_cv_roc_auc, report.search.bestCvAuc);
});

test("a target that is not leaked (Anomaly) trains without a leakage warning and beats chance", async (t) => {
  const out = join(tempDir(t), "anomaly");
  const result = await cli([
    "train",
    "--data",
    csv,
    "--out",
    out,
    "--target",
    "Anomaly",
    "--search",
    "0",
    "-o",
    "json",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.leakage, []);
  assert.doesNotMatch(result.stderr, /TargetLeakage/);
  assert.equal(report.target.positiveLabel, "-1");
  assert.ok(report.metrics.roc_auc > 0.65, `held-out AUC ${report.metrics.roc_auc}`);
  assert.ok(report.metrics.roc_auc < 0.99);
});

test("an existing output folder is kept unless --force, and a target must be binary", async (t) => {
  const dir = tempDir(t);
  const first = await cli(["train", "--data", csv, "--out", dir, "--search", "0"]);
  assert.equal(first.code, 0, first.stderr);
  const again = await cli(["train", "--data", csv, "--out", dir, "--search", "0"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /✘ OutputExists/);
  assert.match(again.stderr, /--force/);

  const notBinary = await cli(["train", "--data", csv, "--out", join(dir, "x"), "--target", "Card Type"]);
  assert.equal(notBinary.code, 1);
  assert.match(notBinary.stderr, /✘ TargetNotBinary: Target column 'Card Type' has 3 distinct values/);
});

test("ONNX Runtime reproduces the TypeScript forest: identical labels, probabilities within 1e-5", async (t) => {
  const table = loadCsvTable(csv, INPUT_SOURCE_COLUMNS);
  const inputs = engineerInputs(table);
  const n = inputs.count;
  // Missing values and unknown categories exercise the imputers and one-hot paths of the graph.
  for (let i = 0; i < n; i += 37) inputs.numeric[i % 6]![i] = Number.NaN;
  for (let i = 5; i < n; i += 53) inputs.categorical[i % 2]![i] = i % 2 ? null : "Wire";
  const y = Uint8Array.from(table.numbers.get("Account Balance")!, (v, i) =>
    v > 60000 || inputs.numeric[0]![i]! > 60 ? 1 : 0,
  );
  const train = Int32Array.from({ length: 1500 }, (_, i) => i);
  const heldOut = Int32Array.from({ length: n - 1500 }, (_, i) => 1500 + i);
  const pre = fitPreprocessor(inputs, train);
  const matrix = { values: transformInputs(pre, inputs), featureCount: pre.featureNames.length };
  const params = {
    nEstimators: 60,
    maxDepth: 12,
    minSamplesSplit: 2,
    minSamplesLeaf: 1,
    bootstrap: true,
    classWeight: "balanced_subsample" as const,
    maxFeatures: "sqrt" as const,
  };
  const forest = fitForest(matrix, y, train, params, 99);
  const expected = predictProba(forest, matrix, heldOut);

  const dir = tempDir(t);
  writeFileSync(
    join(dir, "model.onnx"),
    exportForestPipeline(pre, forest, { producerVersion: "test", metadata: {} }),
  );
  writeFileSync(join(dir, "MLmodel"), "flavors:\n  onnx:\n    data: model.onnx\n");
  const scorer = await OnnxScorer.load(dir);
  t.after(() => scorer.close());
  const rows = await scorer.score(Array.from(heldOut, (row) => recordAt(inputs, row)));

  let maxDifference = 0;
  rows.forEach((row, i) => {
    const [p0, p1] = row.probabilities as number[];
    maxDifference = Math.max(maxDifference, Math.abs(p1! - expected[i]!), Math.abs(p0! - (1 - expected[i]!)));
    assert.equal(row.label, expected[i]! > 0.5 ? 1 : 0, `row ${heldOut[i]}: p=${expected[i]}`);
  });
  assert.ok(maxDifference < 1e-5, `max probability difference ${maxDifference}`);
  assert.ok(expected.some((p) => p > 0.5) && expected.some((p) => p < 0.5), "both classes are predicted");
});

test("held-out rows follow the rows' content, not the seed: a champion is never scored on rows it trained on, whatever seeds and fractions", async (t) => {
  const dir = tempDir(t);
  const train = async (name: string, seed: number, testFraction: number) => {
    const out = join(dir, name);
    await trainFinancialModel({
      dataPath: csv,
      outDir: out,
      seed,
      testFraction,
      search: 0,
      target: "Anomaly",
    });
    return holdoutFractionOf(parse(readFileSync(join(out, "MLmodel"), "utf8")).metadata)!;
  };
  const champion = await train("champion", 42, 0.2);
  const challenger = await train("challenger", 7, 0.3);
  assert.deepEqual([champion, challenger], [0.2, 0.3], "each package records its held-out fraction");
  const all = new Set(Array.from({ length: 2000 }, (_, i) => i));
  const heldOut = (f: number) =>
    new Set(heldOutRows({ dataPath: csv, target: "Anomaly", testFraction: f }).rows);
  const trainedOn = (f: number) => {
    const held = heldOut(f);
    return new Set([...all].filter((row) => !held.has(row)));
  };
  // The gate scores both on the rows below the smaller fraction, as the pipeline does.
  const scored = heldOut(Math.min(champion, challenger));
  assert.ok(scored.size > 300, `${scored.size} rows new to both`);
  for (const row of trainedOn(champion)) assert.ok(!scored.has(row), `champion trained on row ${row}`);
  for (const row of trainedOn(challenger)) assert.ok(!scored.has(row), `challenger trained on row ${row}`);
  // Nested: a smaller fraction's rows are held out by every larger one.
  const wider = heldOut(0.3);
  for (const row of heldOut(0.2)) assert.ok(wider.has(row));
});
