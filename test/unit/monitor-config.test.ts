/**
 * Monitoring's inputs, in-process: Azure's data_collector YAML, the alert rules file and its errors,
 * answers of every shape read back as prediction columns, baselines from a CSV typed by a signature,
 * and a torn capture file cut back to its last whole line.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { baselineOfCsv } from "../../src/baseline/index.js";
import { parseDeploymentSpec } from "../../src/config/index.js";
import { pruneCaptured, repairTail } from "../../src/monitor/capture.js";
import { loadAlertSettings } from "../../src/monitor/index.js";
import { outputRows } from "../../src/monitor/read.js";
import type { PierError } from "../../src/shared/index.js";
import { tempDir } from "../helpers.js";

const deployment = (data_collector: unknown) =>
  parseDeploymentSpec(
    {
      name: "blue",
      endpoint_name: "fin",
      model: "./model",
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      data_collector,
    },
    "blue.yml",
  );

test("data_collector: Azure's published form is taken as written; mistakes name their key", () => {
  // As in Azure ML's how-to-collect-production-data example.
  const { spec, warnings } = deployment({
    collections: {
      model_inputs: { enabled: "True" },
      model_outputs: { enabled: "True" },
      request: { enabled: "True" },
      response: { enabled: "False" },
    },
    rolling_rate: "Hour",
    sampling_rate: 0.25,
    request_logging: { capture_headers: ["x-client-tag"] },
  });
  assert.equal(spec.data_collector!.rolling_rate, "hour");
  assert.equal(spec.data_collector!.sampling_rate, 0.25);
  assert.equal(spec.data_collector!.collections.response!.enabled, false);
  assert.equal(spec.data_collector!.collections.model_inputs!.enabled, true);
  assert.deepEqual(warnings, []);
  const secret = deployment({ request_logging: { capture_headers: ["Authorization"] }, collections: {} });
  assert.match(
    secret.warnings.join("\n"),
    /capture_headers: Authorization is not captured \(it carries a key or a session\)/,
  );
  const custom = deployment({ collections: { my_features: { enabled: true } } });
  assert.match(custom.warnings.join("\n"), /data_collector\.collections\.my_features is a custom collection/);
  assert.throws(
    () => deployment({ sampling_rate: 2, collections: {} }),
    (e: PierError) => e.code === "BadArgument" && /data_collector\.sampling_rate/.test(e.message),
  );
  assert.throws(
    () => deployment({ collections: { model_inputs: { enabled: "yes" } } }),
    (e: PierError) => /data_collector\.collections\.model_inputs\.enabled/.test(e.message),
  );
  assert.throws(
    () => deployment({ rolling_rate: "Week", collections: {} }),
    (e: PierError) => /data_collector\.rolling_rate/.test(e.message),
  );
});

test("alert rules: the built-in ones, a file that adds or replaces them, and its mistakes", (t) => {
  const dir = tempDir(t);
  assert.equal(loadAlertSettings(undefined).evaluate_every, 30_000);
  const file = (text: string) => {
    const path = join(dir, `rules-${Math.random()}.yml`);
    writeFileSync(path, text);
    return path;
  };
  const settings = loadAlertSettings(
    file(
      "evaluate_every: 10s\nwebhook: {url: 'http://127.0.0.1:9/x'}\nrules:\n  - {name: Slow, signal: latency_p50_ms, above: 200, window: 2m, action: hold}\n",
    ),
  );
  assert.equal(settings.evaluate_every, 10_000);
  assert.equal(settings.webhook!.max_attempts, 5);
  assert.deepEqual(
    settings.rules.map((r) => [r.name, r.window, r.action]),
    [["Slow", 120_000, "hold"]],
  );
  const bad = (text: string, pattern: RegExp) =>
    assert.throws(
      () => loadAlertSettings(file(text)),
      (e: PierError) => e.code === "BadArgument" && pattern.test(e.message),
    );
  bad("rules:\n  - {name: X, signal: latency_p99_ms}\n", /rule X needs 'above'/);
  bad("rules:\n  - {name: X, signal: cpu}\n", /rules\.0\.signal/);
  bad("rules:\n  - {name: X, signal: data_drift, window: soon}\n", /rules\.0\.window/);
  bad("webhook: {url: not-a-url}\n", /webhook\.url/);
  bad("rules:\n  - {name: X, signal: data_drift}\n  - {name: X, signal: data_quality}\n", /defined twice/);
  assert.throws(
    () => loadAlertSettings(join(dir, "missing.yml")),
    (e: PierError) => e.code === "BadArgument",
  );
});

test("answers of every shape become prediction columns, vectors split by position", () => {
  const columns = (answer: unknown) => Object.fromEntries(outputRows(answer).columns);
  // Azure /score from pier's ONNX host: columns of outputs.
  assert.deepEqual(
    columns({
      label: [0, 1],
      probabilities: [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
    }),
    {
      label: [0, 1],
      "probabilities[0]": [0.9, 0.2],
      "probabilities[1]": [0.1, 0.8],
    },
  );
  // MLflow's scoring server: {"predictions": [...]} of records, or a bare list.
  assert.deepEqual(
    columns({
      predictions: [
        { label: 1, score: 0.7 },
        { label: 0, score: 0.2 },
      ],
    }),
    {
      label: [1, 0],
      score: [0.7, 0.2],
    },
  );
  assert.deepEqual(columns({ predictions: ["a", "b", "a"] }), { prediction: ["a", "b", "a"] });
  // A scikit-learn ZipMap (class → probability per row).
  assert.deepEqual(columns([{ output_probability: { "0": 0.3, "1": 0.7 } }]), {
    "output_probability[0]": [0.3],
    "output_probability[1]": [0.7],
  });
  // The Open Inference Protocol's outputs: flat data, rows = shape[0].
  assert.deepEqual(
    columns([
      { name: "label", datatype: "INT64", shape: [2], data: [1, 0] },
      { name: "probabilities", datatype: "FP32", shape: [2, 2], data: [0.1, 0.9, 0.8, 0.2] },
    ]),
    { label: [1, 0], "probabilities[0]": [0.1, 0.8], "probabilities[1]": [0.9, 0.2] },
  );
  assert.equal(outputRows(42).rows, 1);
});

test("a baseline from a CSV is typed by the model's signature; a missing input is named", () => {
  const csv = "age,plan,zip,prediction\n30,gold,02139,1\n41,silver,10001,0\n,gold,02139,1\n";
  const typed = baselineOfCsv(csv, "train.csv", { age: "number", plan: "category", zip: "category" }, [
    "prediction",
  ]);
  assert.equal(typed.features.age!.type, "number");
  assert.equal(typed.features.age!.nulls, 1);
  assert.equal(
    typed.features.zip!.type,
    "category",
    "a ZIP code of digits stays a category when the signature says string",
  );
  assert.deepEqual(Object.keys(typed.predictions), ["prediction"]);
  assert.equal(typed.predictions.prediction!.type, "category", "a few whole numbers are class labels");
  const untyped = baselineOfCsv(csv, "train.csv", undefined, ["prediction"]);
  assert.equal(untyped.features.zip!.type, "number");
  assert.throws(
    () => baselineOfCsv(csv, "train.csv", { income: "number" }),
    (e: PierError) => e.code === "BadArgument" && /no column 'income'/.test(e.message),
  );
});

test("a capture file a crash tore is cut back to its last whole line", (t) => {
  const path = join(tempDir(t), "i.jsonl");
  writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":');
  assert.equal(repairTail(path), 5);
  assert.equal(readFileSync(path, "utf8"), '{"a":1}\n{"a":2}\n');
  assert.equal(repairTail(path), 0);
  writeFileSync(path, '{"torn');
  repairTail(path);
  assert.equal(readFileSync(path, "utf8"), "");
});

test("captured files older than the retention are deleted by day, newer ones kept", (t) => {
  const root = tempDir(t);
  const day = (date: string) => join(root, "fin", "blue", "model_inputs", ...date.split("-"));
  for (const date of ["2026-10-01", "2026-11-20", "2026-12-01"]) {
    mkdirSync(join(day(date), "09"), { recursive: true });
    writeFileSync(join(day(date), "09", "blue-0.jsonl"), "{}\n");
  }
  assert.equal(pruneCaptured(root, Date.UTC(2026, 11, 1, 12), 30), 1);
  assert.deepEqual(
    ["2026-10-01", "2026-11-20", "2026-12-01"].map((d) => existsSync(day(d))),
    [false, true, true],
  );
});
