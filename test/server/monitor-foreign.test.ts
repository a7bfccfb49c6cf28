/**
 * Monitoring a model pier did not train: a public MLflow scikit-learn classifier (an SVC pickled by
 * scikit-learn 0.24, served by pier's Python host) gets its baseline from a CSV of iris rows with
 * `pier monitor baseline`, typed by the model's signature, its predictions read from the CSV's
 * column; production traffic like the baseline flags nothing, shifted petals are flagged.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import type { MonitorReport } from "../../src/monitor/index.js";
import { FIXTURES, post, servePier, tempDir, waitFor } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
const COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"];

test("a baseline from a CSV for an MLflow sklearn model pier did not train; drift in its captured traffic", async (t) => {
  const dir = tempDir(t);
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "iris"])).code, 0);
  const file = join(dir, "svc.yml");
  writeFileSync(
    file,
    stringify({
      name: "svc",
      endpoint_name: "iris",
      model: join(FIXTURES, "mlflow/svc-tensor-output"),
      instance_type: "Standard_DS2_v2",
      instance_count: 1,
      environment_variables: { PIER_PYTHON: PYTHON },
      data_collector: {
        collections: { model_inputs: { enabled: "True" }, model_outputs: { enabled: "True" } },
      },
    }),
  );
  const created = await pier.run(["deployment", "create", "-f", file, "--all-traffic"]);
  assert.equal(created.code, 0, created.stderr);
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "iris", "-o", "json"])).stdout,
  ).primaryKey;
  const model = JSON.parse(
    (await pier.run(["deployment", "show", "-e", "iris", "-n", "svc", "-o", "json"])).stdout,
  ).model;

  // Iris as scikit-learn ships it, scored by the model here: the training-like rows and their predictions.
  const iris = JSON.parse(
    execFileSync(
      PYTHON,
      [
        "-c",
        "import json; from sklearn.datasets import load_iris; print(json.dumps(load_iris().data.tolist()))",
      ],
      {
        encoding: "utf8",
      },
    ),
  ) as number[][];
  const score = async (rows: number[][]) => {
    const answer = await post(
      `${pier.url}/endpoints/iris/score`,
      { input_data: { columns: COLUMNS, index: rows.map((_, i) => i), data: rows } },
      { authorization: `Bearer ${key}` },
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as unknown[];
  };
  const predictions = await score(iris);
  const csv = join(dir, "iris.csv");
  writeFileSync(
    csv,
    [`${COLUMNS.join(",")},prediction`, ...iris.map((r, i) => `${r.join(",")},${predictions[i]}`)].join("\n"),
  );
  const baseline = await pier.run([
    "monitor",
    "baseline",
    "--model",
    model,
    "--data",
    csv,
    "--predictions",
    "prediction",
    "-o",
    "json",
  ]);
  assert.equal(baseline.code, 0, baseline.stderr);
  const made = JSON.parse(baseline.stdout);
  assert.deepEqual(
    made.features,
    Object.fromEntries(COLUMNS.map((c) => [c, "number"])),
    "typed by the signature",
  );
  assert.deepEqual(made.predictions, ["prediction"]);
  const missing = await pier.run([
    "monitor",
    "baseline",
    "--model",
    model,
    "--data",
    join(FIXTURES, "mlflow/svc-tensor-output/requirements.txt"),
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /has no column 'sepal_length'/);

  const monitor = async (since: string) => {
    const result = await pier.run(["monitor", "-e", "iris", "--since", since, "-o", "json"]);
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout) as MonitorReport).deployments[0]!;
  };
  // Production like the baseline (the same rows, twice over, in a new window): nothing flagged.
  let since = new Date().toISOString();
  await score(iris);
  await score(iris);
  const calm = await waitFor(async () => {
    const d = await monitor(since);
    return d.captured.rows === 300 && d;
  }, "300 captured rows");
  assert.equal(calm.baseline?.origin, "pier monitor baseline");
  assert.deepEqual(calm.summary.drift, [], JSON.stringify(calm.data_drift.map((d) => [d.name, d.value])));
  assert.deepEqual(
    calm.prediction_drift.map((p) => [p.name, p.type]),
    [["prediction", "category"]],
  );
  // Longer petals: that feature drifts, and so do the predictions it drives.
  since = new Date().toISOString();
  await score(iris.map(([a, b, c, d]) => [a!, b!, c! + 2, d!]));
  const shifted = await waitFor(async () => {
    const d = await monitor(since);
    return d.captured.rows === 150 && d;
  }, "150 captured rows");
  assert.ok(shifted.summary.drift.includes("petal_length"), JSON.stringify(shifted.summary));
  assert.ok(!shifted.summary.drift.includes("sepal_width"), JSON.stringify(shifted.summary));
  assert.ok(shifted.summary.drift.includes("prediction"), JSON.stringify(shifted.prediction_drift));
});
