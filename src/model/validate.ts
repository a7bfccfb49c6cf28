/**
 * Validates the structure of an MLflow model directory before it is registered or deployed: MLmodel,
 * flavors, artifacts, signature, input example, and its safety (pickles). Its declared environment is
 * checked by env/ (env/package.ts puts the two together). Pure: reads files, returns findings, never
 * throws for a bad model.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { type Finding, sortFindings, userError } from "../shared/index.js";
import { modelInterface, onnxGraph } from "./interface.js";
import { type ColumnSpec, MLMODEL_FILE, type MlModel, type SchemaEntry } from "./mlmodel.js";
import { parseSchema, valueFitsColumn } from "./signature.js";

export interface ValidationResult {
  dir: string;
  findings: Finding[];
  /** The parsed MLmodel, when it could be read. */
  mlmodel?: MlModel;
}

const LFS_POINTER_PREFIX = "version https://git-lfs.github.com/spec/";

/** Flavor keys that name a file or folder inside the model directory. */
const ARTIFACT_KEYS: Record<string, string[]> = {
  sklearn: ["pickled_model"],
  onnx: ["data"],
  python_function: ["model_path", "data"],
  lightgbm: ["data"],
  xgboost: ["data"],
  catboost: ["data"],
  pytorch: ["model_data", "pickle_module_name"],
  tensorflow: ["saved_model_dir"],
  keras: ["data"],
};

const PICKLE_FORMATS = new Set(["pickle", "cloudpickle"]);

function readHead(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read).toString("latin1");
  } finally {
    closeSync(fd);
  }
}

/** Checks that a file referenced by the model is a real, non-empty file inside the folder. */
function checkArtifact(dir: string, path: string, evidence: Finding["evidence"]): Finding | undefined {
  const full = resolve(dir, path);
  if (relative(resolve(dir), full).startsWith("..")) {
    return {
      code: "ArtifactPathEscapes",
      severity: "error",
      message: `'${path}' points outside the model folder`,
      evidence,
      fix: "Keep every artifact inside the model directory and reference it by a relative path.",
    };
  }
  if (!existsSync(full)) {
    return {
      code: "ArtifactMissing",
      severity: "error",
      message: `${evidence.file} references ${path}, which is not in the model folder`,
      evidence,
      fix: `Add ${path} to the folder (log the model again with mlflow.<flavor>.save_model), or fix ${evidence.key} in MLmodel.`,
    };
  }
  const stat = statSync(full);
  if (stat.isDirectory()) return undefined;
  if (stat.size === 0) {
    return {
      code: "ArtifactEmpty",
      severity: "error",
      message: `${path} is an empty file`,
      evidence,
      fix: `Copy the real ${path} into the folder; an empty file cannot be loaded.`,
    };
  }
  if (readHead(full, LFS_POINTER_PREFIX.length) === LFS_POINTER_PREFIX) {
    return {
      code: "ArtifactLfsPointer",
      severity: "error",
      message: `${path} is a Git LFS pointer (${stat.size} bytes), not the model file`,
      evidence,
      fix: "Run `git lfs pull` in the repository the model came from, then register the folder again.",
      actions: [{ kind: "command", command: "git lfs pull" }],
    };
  }
  return undefined;
}

function locateMlModel(dir: string): Finding[] {
  const mlmodelPath = join(dir, MLMODEL_FILE);
  if (existsSync(mlmodelPath) && statSync(mlmodelPath).isDirectory()) {
    return [
      {
        code: "MLmodelIsFolder",
        severity: "error",
        message: `${MLMODEL_FILE} is a folder here, so the model was saved one level too deep`,
        evidence: { file: MLMODEL_FILE },
        fix: `Register ${join(dir, MLMODEL_FILE)} instead (the folder that holds the MLmodel file).`,
      },
    ];
  }
  if (existsSync(mlmodelPath)) return [];
  const nested = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, MLMODEL_FILE)))
    .map((entry) => entry.name);
  if (nested.length > 0) {
    return [
      {
        code: "MLmodelNested",
        severity: "error",
        message: `Model source must be a directory containing an mlflow MLmodel: MLmodel is one folder down, in ${nested.join(", ")}/`,
        evidence: { file: `${nested[0]}/${MLMODEL_FILE}` },
        fix: `Register ${join(dir, nested[0]!)} instead of ${dir}.`,
      },
    ];
  }
  return [
    {
      code: "MLmodelMissing",
      severity: "error",
      message: "Model source must be a directory containing an mlflow MLmodel: there is no MLmodel file here",
      evidence: { file: MLMODEL_FILE },
      fix: "Point at the folder written by mlflow.<flavor>.save_model (or `pier train --out`), which holds MLmodel.",
    },
  ];
}

function readMlModelFile(dir: string): { mlmodel?: MlModel; findings: Finding[] } {
  const path = join(dir, MLMODEL_FILE);
  const problem = checkArtifact(dir, MLMODEL_FILE, { file: MLMODEL_FILE });
  if (problem) return { findings: [{ ...problem, message: `MLmodel: ${problem.message}` }] };
  let value: unknown;
  try {
    value = parse(readFileSync(path, "utf8"));
  } catch (error) {
    return {
      findings: [
        {
          code: "MLmodelMalformed",
          severity: "error",
          message: `MLmodel is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
          evidence: { file: MLMODEL_FILE },
          fix: "Restore the MLmodel file that MLflow wrote; do not edit it by hand.",
        },
      ],
    };
  }
  const flavors = (value as MlModel | null)?.flavors;
  if (
    !value ||
    typeof value !== "object" ||
    !flavors ||
    typeof flavors !== "object" ||
    Object.keys(flavors).length === 0
  ) {
    return {
      findings: [
        {
          code: "FlavorsMissing",
          severity: "error",
          message: "MLmodel has no flavors, so no runtime knows how to load the model",
          evidence: { file: MLMODEL_FILE, key: "flavors" },
          fix: "Save the model with an MLflow flavor (mlflow.sklearn.save_model, mlflow.onnx.save_model, …).",
        },
      ],
    };
  }
  return { mlmodel: value as MlModel, findings: [] };
}

function structureFindings(dir: string, mlmodel: MlModel): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const [flavor, config] of Object.entries(mlmodel.flavors)) {
    for (const key of ARTIFACT_KEYS[flavor] ?? ["data"]) {
      const path = config?.[key];
      if (typeof path !== "string" || (flavor === "pytorch" && key === "pickle_module_name")) continue;
      if (seen.has(path)) continue;
      seen.add(path);
      const problem = checkArtifact(dir, path, {
        file: MLMODEL_FILE,
        key: `flavors.${flavor}.${key}`,
        value: path,
      });
      if (problem) findings.push(problem);
    }
  }
  if (!mlmodel.flavors.python_function) {
    findings.push({
      code: "PyfuncFlavorMissing",
      severity: "warning",
      message:
        "MLmodel has no python_function flavor; MLflow scoring servers and Azure's no-code MLflow deployments need it",
      evidence: { file: MLMODEL_FILE, key: "flavors" },
      fix: "Save the model with mlflow.<flavor>.save_model, which adds python_function.",
    });
  }
  return findings;
}

/** What is wrong with a params schema (a JSON list of {name, dtype, default, shape}); undefined when nothing is. */
function paramsProblem(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `is not valid JSON (${(error as Error).message})`;
  }
  if (!Array.isArray(value)) return "must be a JSON list";
  const bad = value.findIndex(
    (p) => !p || typeof p !== "object" || typeof p.name !== "string" || typeof p.dtype !== "string",
  );
  return bad < 0 ? undefined : `entry ${bad} needs a name and a dtype`;
}

function signatureFindings(dir: string, mlmodel: MlModel): Finding[] {
  const findings: Finding[] = [];
  const signature = mlmodel.signature;
  let inputs: SchemaEntry[] | undefined;
  if (!signature || (signature.inputs === undefined && signature.outputs === undefined)) {
    const onnx = Boolean(mlmodel.flavors.onnx);
    findings.push({
      code: "SignatureMissing",
      // pier checks requests to an ONNX model against its graph's inputs; MLflow's and Azure's servers would not.
      severity: onnx ? "info" : "warning",
      message: onnx
        ? "MLmodel has no signature: pier checks requests against the ONNX graph's inputs, but MLflow's and Azure's servers check nothing before the model runs"
        : "MLmodel has no signature, so requests cannot be checked against the model's inputs before it runs",
      evidence: { file: MLMODEL_FILE, key: "signature" },
      fix: "Log the model with signature=infer_signature(X, model.predict(X)).",
    });
  } else {
    for (const part of ["inputs", "outputs"] as const) {
      const text = signature[part];
      if (text === null || text === undefined) continue;
      const parsed = parseSchema(text);
      if ("problem" in parsed) {
        findings.push({
          code: "SignatureMalformed",
          severity: "error",
          message: `signature.${part} ${parsed.problem}`,
          evidence: { file: MLMODEL_FILE, key: `signature.${part}`, value: String(text).slice(0, 120) },
          fix: "Regenerate the signature with mlflow.models.infer_signature; each part is a JSON list of column or tensor specs.",
        });
      } else if (part === "inputs") {
        inputs = parsed.entries;
      }
    }
    const params = paramsProblem(signature.params);
    if (params)
      findings.push({
        code: "SignatureMalformed",
        severity: "error",
        message: `signature.params ${params}`,
        evidence: {
          file: MLMODEL_FILE,
          key: "signature.params",
          value: String(signature.params).slice(0, 120),
        },
        fix: "Regenerate the signature with mlflow.models.infer_signature(X, y, params={...}); params is a JSON list of {name, dtype, default, shape}.",
      });
  }

  const example = mlmodel.saved_input_example_info;
  if (!example) return findings;
  const file = example.artifact_path;
  const evidence = { file: MLMODEL_FILE, key: "saved_input_example_info.artifact_path", value: file };
  if (typeof file !== "string") {
    findings.push({
      code: "InputExampleMalformed",
      severity: "error",
      message: "saved_input_example_info has no artifact_path",
      evidence,
      fix: "Log the model again with input_example=…",
    });
    return findings;
  }
  const missing = checkArtifact(dir, file, evidence);
  if (missing)
    return [
      ...findings,
      { ...missing, code: missing.code === "ArtifactMissing" ? "InputExampleMissing" : missing.code },
    ];
  let rows: Record<string, unknown>[];
  try {
    rows = exampleRows(JSON.parse(readFileSync(join(dir, file), "utf8")), example.pandas_orient);
  } catch (error) {
    findings.push({
      code: "InputExampleMalformed",
      severity: "error",
      message: `${file} is not a readable input example: ${(error as Error).message}`,
      evidence: { file },
      fix: 'Write the example as pandas split orientation: {"columns": [...], "data": [[...]]}.',
    });
    return findings;
  }
  const columns = inputs?.filter((e): e is ColumnSpec => e.type !== "tensor" && e.name !== undefined);
  if (!columns || columns.length === 0) return findings;
  const missingColumns = columns.filter(
    (c) => c.required !== false && rows.some((row) => !(String(c.name) in row)),
  );
  if (missingColumns.length > 0) {
    findings.push({
      code: "InputExampleMismatch",
      severity: "error",
      message: `${file} lacks signature inputs ${JSON.stringify(missingColumns.map((c) => String(c.name)))}`,
      evidence: { file, key: "columns" },
      fix: "Log the input example and the signature from the same DataFrame.",
    });
  }
  for (const column of columns) {
    const bad = rows.findIndex((row) => !valueFitsColumn(row[String(column.name)], column.type));
    if (bad >= 0) {
      findings.push({
        code: "InputExampleMismatch",
        severity: "error",
        message: `${file} row ${bad + 1} has ${JSON.stringify(rows[bad]![String(column.name)])} in column '${column.name}', which the signature types as ${column.type}`,
        evidence: { file, key: String(column.name) },
        fix: "Log the input example and the signature from the same DataFrame.",
      });
    }
  }
  return findings;
}

/** Rows of an input example in split ({columns, data}) or records orientation. */
function exampleRows(value: unknown, orient: string | undefined): Record<string, unknown>[] {
  if (Array.isArray(value)) {
    if (value.every((row) => row && typeof row === "object" && !Array.isArray(row)))
      return value as Record<string, unknown>[];
    throw new Error("a list example must hold row objects (records orientation)");
  }
  const split = value as { columns?: unknown; data?: unknown } | null;
  if (split && Array.isArray(split.columns) && Array.isArray(split.data)) {
    const columns = split.columns.map(String);
    return split.data.map((row) => {
      if (!Array.isArray(row) || row.length !== columns.length)
        throw new Error(`a data row does not have ${columns.length} values`);
      return Object.fromEntries(columns.map((c, i) => [c, row[i]]));
    });
  }
  if (split && typeof split === "object" && orient !== "split") return [split as Record<string, unknown>];
  throw new Error('expected {"columns": [...], "data": [[...]]}');
}

function safetyFindings(mlmodel: MlModel): Finding[] {
  const sklearn = mlmodel.flavors.sklearn;
  const pyfunc = mlmodel.flavors.python_function ?? {};
  const pickled =
    (sklearn &&
      PICKLE_FORMATS.has(String(sklearn.serialization_format ?? "cloudpickle")) &&
      String(sklearn.pickled_model ?? "model.pkl")) ||
    (typeof pyfunc.python_model === "string" && pyfunc.python_model) ||
    (typeof pyfunc.model_path === "string" &&
      /\.(pkl|pickle|joblib)$/.test(pyfunc.model_path) &&
      pyfunc.model_path);
  if (!pickled) return [];
  return [
    {
      code: "PickleExecutesCode",
      severity: "info",
      message: `Loading ${pickled} unpickles it, and unpickling runs whatever Python code the file contains`,
      evidence: {
        file: MLMODEL_FILE,
        key: sklearn ? "flavors.sklearn.serialization_format" : "flavors.python_function",
      },
      fix: "Register and deploy pickles only from sources you trust; prefer ONNX or skops for models from others.",
    },
  ];
}

/** Model files an empty copy of is never right (an empty __init__.py is). */
const MODEL_FILE =
  /\.(pkl|pickle|joblib|sav|onnx|pt|pth|bin|h5|keras|lgb|txt|json|safetensors|npy|npz|parquet|csv)$/i;

/**
 * Files of any folder (a scoring script's model, a code folder) that cannot be what they claim: Git
 * LFS pointers in place of the file, and empty model files. `folder` names it in evidence.
 */
export function checkFolderFiles(dir: string, files: readonly string[], folder: string): Finding[] {
  const findings: Finding[] = [];
  for (const path of files) {
    const problem = checkArtifact(dir, path, { file: `${folder}/${path}` });
    if (!problem) continue;
    if (problem.code === "ArtifactEmpty" && !MODEL_FILE.test(path)) continue;
    findings.push({ ...problem, message: `${folder}: ${problem.message}` });
  }
  return findings;
}

/** Throws ModelSourceNotFound unless `dir` is an existing folder; returns its absolute path. */
export function requireModelFolder(dir: string): string {
  const source = resolve(dir);
  if (!existsSync(source) || !statSync(source).isDirectory()) {
    throw userError(
      "ModelSourceNotFound",
      `Model source must be a directory containing an mlflow MLmodel: ${source} ${existsSync(source) ? "is a file" : "does not exist"}`,
      "Pass the folder that holds the MLmodel file.",
    );
  }
  return source;
}

/** Where an ONNX graph and the signature that describes it disagree (an unreadable graph is OnnxLoadFailed). */
function interfaceFindings(dir: string, mlmodel: MlModel): Finding[] {
  const data = mlmodel.flavors.onnx?.data;
  if (typeof data !== "string" || checkArtifact(dir, data, { file: MLMODEL_FILE })) return [];
  const readFile = (path: string) => {
    const full = resolve(dir, path);
    return relative(resolve(dir), full).startsWith("..") || !existsSync(full)
      ? undefined
      : readFileSync(full);
  };
  const graph = onnxGraph({ flavors: mlmodel.flavors, readFile });
  if ("problem" in graph)
    return [
      {
        code: "OnnxLoadFailed",
        severity: "error",
        message: graph.problem,
        evidence: { file: data },
        fix: "Export the model again (torch.onnx.export, tf2onnx, skl2onnx) and check it with onnx.checker.check_model.",
      },
    ];
  return modelInterface({ flavors: mlmodel.flavors, signature: mlmodel.signature, readFile }).findings;
}

/** Validates the structure of `dir` as an MLflow model directory; never throws for problems in the model. */
export function validateModelStructure(dir: string): ValidationResult {
  const located = locateMlModel(dir);
  if (located.length > 0) return { dir, findings: located };
  const { mlmodel, findings } = readMlModelFile(dir);
  if (!mlmodel) return { dir, findings };
  return {
    dir,
    mlmodel,
    findings: sortFindings([
      ...structureFindings(dir, mlmodel),
      ...signatureFindings(dir, mlmodel),
      ...interfaceFindings(dir, mlmodel),
      ...safetyFindings(mlmodel),
    ]),
  };
}
