/**
 * Which host runs a model version, with what command: ONNX models in Node (onnxruntime-node),
 * MLflow sklearn and python_function models and scoring scripts in pier's Python host, in the
 * environment env/ prepared (chosen, and built when the pins need it) before any process starts.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DeploymentSpec } from "../config/index.js";
import {
  type CondaFile,
  type ModelFacts,
  type PreflightOptions,
  preflightEnvironment,
} from "../env/index.js";
import {
  exampleRequest,
  type MlModel,
  type ModelInterface,
  type ModelLoader,
  modelInterface,
  modelLoader,
} from "../model/index.js";
import { type Finding, stringifyJson } from "../shared/index.js";
import type { WarmPythons } from "./warm-python.js";

/** Warm interpreters to fork Python instances from, and the instance's memory limit (see warm-python.ts). */
type WarmOption = { pythons: WarmPythons; memoryLimitBytes: number };

const ONNX_HOST = fileURLToPath(new URL("./onnx-host.js", import.meta.url));
const PYTHON_HOST = fileURLToPath(new URL("../../../python/pier_host.py", import.meta.url));

/** The process an instance runs. */
export interface InstanceCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** A file the storage initializer copies: its path in the folder and its content's hash. */
export interface LaidOutFile {
  path: string;
  sha256: string;
  size: number;
}

/** A model version as the host needs it. */
export interface HostedModel extends ModelFacts {
  source: string;
  /** One file (laid out in AZUREML_MODEL_DIR itself) or a folder (which keeps its name there). */
  sourceKind?: "folder" | "file";
  /** The version as Azure names it (a label such as v2): the folder AZUREML_MODEL_DIR ends in. */
  label?: string | null;
  signature?: MlModel["signature"] | null;
  inputExample: unknown;
  artifacts: LaidOutFile[];
}

/** A scoring script's code, snapshotted, and its conda file. */
export interface ScriptCode {
  artifacts: LaidOutFile[];
  scoringScript: string;
  /** The code folder's name: on Azure it keeps it under AML_APP_ROOT (absent in records made before). */
  folder?: string;
  conda: CondaFile | null;
}

export interface PreparedHost {
  name: "onnx" | "python" | "score";
  description: string;
  findings: Finding[];
  /** Folders the storage initializer lays out in the instance dir. */
  layout: { path: string; artifacts: LaidOutFile[] }[];
  /** A scoring script gets the raw request body; MLflow models get checked records or tensors. */
  rawRequests: boolean;
  /** What requests must carry and answers hold. */
  interface: ModelInterface;
  /**
   * How the host answers: "view" (the ONNX host shapes output tensors as the request's protocol
   * wants) or "values" (the Python host answers with what the model returned).
   */
  answers: "view" | "values";
  command: (instanceDir: string) => InstanceCommand;
}

function baseEnv(modelDir: string): Record<string, string> {
  return { PATH: process.env.PATH ?? "", PIER_MODEL_DIR: modelDir, AZUREML_MODEL_DIR: modelDir };
}

/** The input example as a request, for the host's startup prediction (JSON); "" without one. */
function smokeRequest(model: HostedModel, iface: ModelInterface): string {
  if (model.inputExample === null || model.inputExample === undefined) return "";
  const request = exampleRequest(model.inputExample, iface.inputs);
  return request ? stringifyJson(request, true) : "";
}

/** The Python host's settings for how to load the model. */
function loaderEnv(loader: Exclude<ModelLoader, { kind: "onnx" }>): Record<string, string> {
  if (loader.kind === "sklearn")
    return {
      PIER_LOADER: "sklearn",
      PIER_MODEL_FILE: loader.modelFile,
      PIER_SERIALIZATION: loader.serialization,
      PIER_CODE_PATH: loader.code,
    };
  return {
    PIER_LOADER: "pyfunc",
    PIER_LOADER_MODULE: loader.loaderModule,
    PIER_PYFUNC_DATA: loader.data,
    PIER_CODE_PATH: loader.code,
  };
}

const pythonEnv = (spec: DeploymentSpec) => ({
  PIER_MAX_CONCURRENT: String(spec.request_settings.max_concurrent_requests_per_instance),
  PYTHONUNBUFFERED: "1",
  PYTHONDONTWRITEBYTECODE: "1",
});

/** Picks the host and prepares its environment; throws a PierError (e.g. PackageMissing) when it cannot start. */
export async function prepareHost(
  model: HostedModel,
  spec: DeploymentSpec,
  code: ScriptCode | null,
  options: Omit<PreflightOptions, "mode" | "preferredPython"> & { warm?: WarmOption | undefined },
): Promise<PreparedHost> {
  const extra = spec.environment_variables ?? {};
  const { warm, ...rest } = options;
  const preflight = { ...rest, mode: "build" as const, preferredPython: extra.PIER_PYTHON };
  if (code) return prepareScoringScript(model, spec, code, preflight, warm);
  const loader = modelLoader(model);
  const modelLayout = [{ path: "model", artifacts: model.artifacts }];
  const iface = modelInterface({
    flavors: model.flavors,
    signature: model.signature,
    readFile: (path) => {
      const blob = options.artifactPath?.(path);
      return blob ? readFileSync(blob) : undefined;
    },
  }).interface;
  if (loader.kind === "onnx") {
    return {
      name: "onnx",
      description: "onnx (onnxruntime-node)",
      findings: [],
      layout: modelLayout,
      rawRequests: false,
      interface: iface,
      answers: "view",
      command: (instanceDir) => ({
        file: process.execPath,
        args: [ONNX_HOST],
        // One intra-op thread: single-row requests gain nothing from more, and concurrency comes from
        // max_concurrent_requests_per_instance and instance_count.
        env: {
          ...baseEnv(join(instanceDir, "model")),
          PIER_INTRA_OP_THREADS: "1",
          PIER_SMOKE_REQUEST: smokeRequest(model, iface),
          ...extra,
        },
      }),
    };
  }
  const environment = await preflightEnvironment({ model }, preflight);
  const python = environment.interpreter!.executable;
  const named = iface.inputs.kind === "columns" ? iface.inputs.columns.map((c) => String(c.name)) : null;
  return warmed(
    {
      name: "python",
      description: environment.description,
      findings: environment.findings,
      layout: modelLayout,
      rawRequests: false,
      interface: iface,
      answers: "values",
      command: (instanceDir) => ({
        file: python,
        args: [PYTHON_HOST],
        env: {
          ...baseEnv(join(instanceDir, "model")),
          ...loaderEnv(loader),
          PIER_COLUMNS: named ? JSON.stringify(named) : "",
          PIER_TENSORS:
            iface.inputs.kind === "tensors"
              ? JSON.stringify({
                  named: iface.inputs.named,
                  dtypes: Object.fromEntries(
                    iface.inputs.tensors.map((t) => [t.name, t.dtype === "string" ? "object" : t.dtype]),
                  ),
                })
              : "",
          PIER_PREDICT_FN:
            typeof model.flavors.python_function?.predict_fn === "string"
              ? model.flavors.python_function.predict_fn
              : "",
          PIER_SMOKE_REQUEST: smokeRequest(model, iface),
          ...pythonEnv(spec),
          ...extra,
        },
      }),
    },
    python,
    warm,
  );
}

/**
 * A Python host whose instances start from the executable's warm interpreter once it is ready
 * (warm-python.ts); the interpreter starts warming now, while the first instances start cold.
 */
function warmed(host: PreparedHost, python: string, warm: WarmOption | undefined): PreparedHost {
  if (!warm) return host;
  const cold = host.command;
  warm.pythons.prepare(python);
  return {
    ...host,
    command: (instanceDir) => warm.pythons.command(cold(instanceDir), python, warm.memoryLimitBytes),
  };
}

/**
 * An Azure scoring script: the model folder keeps its name under AZUREML_MODEL_DIR
 * (azureml-models/<name>/<version>/<folder>), the code folder is copied beside it, and the script's
 * init() and run(raw_body) are called as the Azure inference server calls them.
 */
async function prepareScoringScript(
  model: HostedModel,
  spec: DeploymentSpec,
  code: ScriptCode,
  preflight: PreflightOptions,
  warm: WarmOption | undefined,
): Promise<PreparedHost> {
  const extra = spec.environment_variables ?? {};
  const environment = await preflightEnvironment({ model, conda: code.conda }, preflight);
  const python = environment.interpreter!.executable;
  // As on Azure: AML_APP_ROOT holds the code folder (by its name) and azureml-models/<name>/<version>.
  const modelRoot = join("app", "azureml-models", model.name, model.label ?? String(model.version));
  const folder = code.folder ?? "code";
  return warmed(
    {
      name: "score",
      description: `scoring script ${code.scoringScript} in ${environment.description}`,
      findings: environment.findings,
      layout: [
        // As Azure mounts a model asset: a file lands in AZUREML_MODEL_DIR, a folder keeps its name there.
        {
          path: model.sourceKind === "file" ? modelRoot : join(modelRoot, basename(model.source)),
          artifacts: model.artifacts,
        },
        { path: join("app", folder), artifacts: code.artifacts },
      ],
      rawRequests: true,
      interface: { inputs: { kind: "any" }, outputs: null },
      answers: "values",
      command: (instanceDir) => ({
        file: python,
        args: [PYTHON_HOST],
        env: {
          ...baseEnv(join(instanceDir, modelRoot)),
          PIER_LOADER: "score",
          AML_APP_ROOT: join(instanceDir, "app"),
          AZUREML_ENTRY_SCRIPT: `${folder}/${code.scoringScript}`,
          ...pythonEnv(spec),
          ...extra,
        },
      }),
    },
    python,
    warm,
  );
}
