/**
 * Which host runs a model version, with what command: ONNX models in Node (onnxruntime-node),
 * MLflow sklearn and python_function models and scoring scripts in pier's Python host, in the
 * environment environment-selection.ts chose.
 */
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DeploymentSpec } from "../config/index.js";
import { namedInputColumns } from "../model/index.js";
import type { ArtifactEntry, ModelVersion } from "../registry/index.js";
import type { Finding } from "../shared/index.js";
import {
  checkedInterpreter,
  checkPickle,
  describeInterpreter,
  type EnvironmentContext,
  mlflowNeeds,
  pythonLoader,
  scriptNeeds,
} from "./environment-selection.js";
import type { InstanceCommand } from "./instance.js";
import type { ScoringCode } from "./store.js";

const ONNX_HOST = fileURLToPath(new URL("../runtime/onnx-host.js", import.meta.url));
const PYTHON_HOST = fileURLToPath(new URL("../../../python/pier_host.py", import.meta.url));

export interface PreparedRuntime {
  name: "onnx" | "python" | "score";
  description: string;
  findings: Finding[];
  /** Folders the storage initializer lays out in the instance dir. */
  layout: { path: string; artifacts: ArtifactEntry[] }[];
  /** A scoring script gets the raw request body; MLflow models get checked records. */
  rawRequests: boolean;
  command: (instanceDir: string) => InstanceCommand;
}

function baseEnv(modelDir: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "", PIER_MODEL_DIR: modelDir, AZUREML_MODEL_DIR: modelDir };
}

/** Rows of the input example (split orientation) for the host's startup smoke test, as JSON; "" without one. */
function smokeRows(version: ModelVersion): string {
  const example = version.inputExample as { columns?: unknown[]; data?: unknown[][] } | null;
  if (!example || !Array.isArray(example.data) || example.data.length === 0) return "";
  const rows = example.data.slice(0, 5);
  return JSON.stringify(
    Array.isArray(example.columns) ? { columns: example.columns.map(String), data: rows } : { data: rows },
  );
}

/** Picks and checks the runtime; throws a PierError (e.g. PackageMissing) when it cannot start. */
export async function prepareRuntime(
  version: ModelVersion,
  spec: DeploymentSpec,
  code: ScoringCode | null,
  context: EnvironmentContext,
): Promise<PreparedRuntime> {
  const extra = spec.environment_variables ?? {};
  const modelLayout = [{ path: "model", artifacts: version.artifacts }];
  if (code) return prepareScoringScript(version, spec, code, context);
  if (version.flavors.onnx) {
    return {
      name: "onnx",
      description: "onnx (onnxruntime-node)",
      findings: [],
      layout: modelLayout,
      rawRequests: false,
      command: (instanceDir) => ({
        file: process.execPath,
        args: [ONNX_HOST],
        // One intra-op thread: single-row requests gain nothing from more, and concurrency comes from
        // max_concurrent_requests_per_instance and instance_count.
        env: { ...baseEnv(join(instanceDir, "model")), PIER_INTRA_OP_THREADS: "1", ...extra },
      }),
    };
  }
  const loader = pythonLoader(version);
  const { pins, needed } = mlflowNeeds(version, loader.needed);
  const { report, findings } = await checkedInterpreter(extra.PIER_PYTHON, version, pins, needed, context);
  await checkPickle(loader.env, version, report, findings, context);
  const named = namedInputColumns(version.signature)?.map((c) => String(c.name)) ?? null;
  return {
    name: "python",
    description: describeInterpreter(report),
    findings,
    layout: modelLayout,
    rawRequests: false,
    command: (instanceDir) => ({
      file: report.executable,
      args: [PYTHON_HOST],
      env: {
        ...baseEnv(join(instanceDir, "model")),
        ...loader.env,
        PIER_COLUMNS: named ? JSON.stringify(named) : "",
        PIER_SMOKE_ROWS: smokeRows(version),
        ...pythonEnv(spec),
        ...extra,
      },
    }),
  };
}

const pythonEnv = (spec: DeploymentSpec) => ({
  PIER_MAX_CONCURRENT: String(spec.request_settings.max_concurrent_requests_per_instance),
  PYTHONUNBUFFERED: "1",
  PYTHONDONTWRITEBYTECODE: "1",
});

/**
 * An Azure scoring script: the model folder keeps its name under AZUREML_MODEL_DIR
 * (azureml-models/<name>/<version>/<folder>), the code folder is copied beside it, and the script's
 * init() and run(raw_body) are called as the Azure inference server calls them.
 */
async function prepareScoringScript(
  version: ModelVersion,
  spec: DeploymentSpec,
  code: ScoringCode,
  context: EnvironmentContext,
): Promise<PreparedRuntime> {
  const extra = spec.environment_variables ?? {};
  const { pins, needed } = scriptNeeds(code.conda);
  const { report, findings } = await checkedInterpreter(extra.PIER_PYTHON, version, pins, needed, context);
  const modelRoot = join("azureml-models", version.name, String(version.version));
  const folder = basename(version.source);
  return {
    name: "score",
    description: `scoring script ${code.scoringScript} in ${describeInterpreter(report)}`,
    findings,
    layout: [
      { path: join(modelRoot, folder), artifacts: version.artifacts },
      { path: "code", artifacts: code.artifacts },
    ],
    rawRequests: true,
    command: (instanceDir) => ({
      file: report.executable,
      args: [PYTHON_HOST],
      env: {
        ...baseEnv(join(instanceDir, modelRoot)),
        PIER_LOADER: "score",
        AZUREML_ENTRY_SCRIPT: code.scoringScript,
        PIER_CODE_DIR: join(instanceDir, "code"),
        ...pythonEnv(spec),
        ...extra,
      },
    }),
  };
}
