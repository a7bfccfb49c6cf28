/**
 * Writes the trained pipeline as an MLflow model directory: model.onnx with the onnx and
 * python_function flavors, a column signature of the eight inputs, an input example, metrics, the
 * baseline monitoring measures drift against, and exactly pinned environment files, so a stock MLflow with onnxruntime can load it too.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASELINE_FILE, type Baseline } from "../baseline/index.js";
import { encodeSignature, type MlModel, mlflowTimestamp, writeMlModel } from "../model/index.js";
import { PIER_VERSION } from "../shared/index.js";
import { CATEGORICAL_INPUTS, type ModelInputName, NUMERIC_INPUTS } from "./features.js";
import { LABEL_OUTPUT, PROBABILITIES_OUTPUT } from "./onnx-export.js";

/** The serving environment a stock MLflow would rebuild; every version is pinned exactly. */
const SERVING_ENVIRONMENT = {
  python: "3.11.9",
  pip: "24.0",
  packages: {
    mlflow: "2.17.2",
    onnx: "1.17.0",
    onnxruntime: "1.20.1",
    numpy: "1.26.4",
    pandas: "2.2.3",
  },
} as const;

const MODEL_FILE = "model.onnx";
const INPUT_EXAMPLE_FILE = "input_example.json";

export interface PackageContents {
  onnx: Uint8Array;
  exampleRows: Record<ModelInputName, number | string | null>[];
  metrics: Record<string, unknown>;
  metadata: Record<string, string>;
  /** The profile of the training data and of held-out predictions, for drift monitoring. */
  baseline: Baseline;
}

function requirementsTxt(): string {
  return `${Object.entries(SERVING_ENVIRONMENT.packages)
    .map(([name, version]) => `${name}==${version}`)
    .join("\n")}\n`;
}

function condaYaml(): string {
  const pins = Object.entries(SERVING_ENVIRONMENT.packages).map(
    ([name, version]) => `    - ${name}==${version}`,
  );
  return [
    "channels:",
    "- conda-forge",
    "dependencies:",
    `- python=${SERVING_ENVIRONMENT.python}`,
    `- pip=${SERVING_ENVIRONMENT.pip}`,
    "- pip:",
    ...pins,
    "name: mlflow-env",
    "",
  ].join("\n");
}

function pythonEnvYaml(): string {
  return [
    `python: ${SERVING_ENVIRONMENT.python}`,
    "build_dependencies:",
    `- pip==${SERVING_ENVIRONMENT.pip}`,
    "- setuptools==69.5.1",
    "- wheel==0.43.0",
    "dependencies:",
    "- -r requirements.txt",
    "",
  ].join("\n");
}

function directorySize(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Writes every file of the package into `dir` (which must exist and be empty). */
export function writeModelPackage(dir: string, contents: PackageContents): MlModel {
  const columns = [...NUMERIC_INPUTS, ...CATEGORICAL_INPUTS];
  writeFileSync(join(dir, MODEL_FILE), contents.onnx);
  writeFileSync(
    join(dir, INPUT_EXAMPLE_FILE),
    `${JSON.stringify({ columns, data: contents.exampleRows.map((row) => columns.map((c) => row[c])) })}\n`,
  );
  writeFileSync(join(dir, "metrics.json"), `${JSON.stringify(contents.metrics, null, 2)}\n`);
  writeFileSync(join(dir, BASELINE_FILE), `${JSON.stringify(contents.baseline)}\n`);
  writeFileSync(join(dir, "conda.yaml"), condaYaml());
  writeFileSync(join(dir, "python_env.yaml"), pythonEnvYaml());
  writeFileSync(join(dir, "requirements.txt"), requirementsTxt());

  const mlmodel: MlModel = {
    flavors: {
      onnx: {
        code: null,
        data: MODEL_FILE,
        onnx_version: SERVING_ENVIRONMENT.packages.onnx,
        providers: ["CPUExecutionProvider"],
        onnx_session_options: null,
      },
      python_function: {
        data: MODEL_FILE,
        env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
        loader_module: "mlflow.onnx",
        python_version: SERVING_ENVIRONMENT.python,
      },
    },
    mlflow_version: SERVING_ENVIRONMENT.packages.mlflow,
    model_uuid: randomUUID().replaceAll("-", ""),
    utc_time_created: mlflowTimestamp(new Date()),
    signature: encodeSignature({
      inputs: [
        ...NUMERIC_INPUTS.map((name) => ({ type: "double" as const, name, required: true })),
        ...CATEGORICAL_INPUTS.map((name) => ({ type: "string" as const, name, required: true })),
      ],
      outputs: [
        { type: "tensor", name: LABEL_OUTPUT, "tensor-spec": { dtype: "int64", shape: [-1] } },
        { type: "tensor", name: PROBABILITIES_OUTPUT, "tensor-spec": { dtype: "float32", shape: [-1, 2] } },
      ],
      params: null,
    }),
    saved_input_example_info: {
      artifact_path: INPUT_EXAMPLE_FILE,
      type: "dataframe",
      pandas_orient: "split",
    },
    model_size_bytes: directorySize(dir),
    metadata: { producer: `pier ${PIER_VERSION}`, ...contents.metadata },
  };
  writeMlModel(dir, mlmodel);
  return mlmodel;
}
