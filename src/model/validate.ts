/**
 * Validates an MLflow model directory before it is registered or deployed: its structure (MLmodel,
 * flavors, artifacts, env files, signature, input example), its declared environment (pins that
 * cannot resolve together, drift between MLmodel and the env files) and its safety (pickles).
 * Pure: reads files, returns findings, never throws for a bad model.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse } from "yaml";
import {
  type DeclaredEnvironment,
  flavorPackages,
  flavorVersionKeys,
  frameworkPackages,
  isKnownPackage,
  pythonSatisfies,
  type Requirement,
  readCondaYaml,
  readPythonEnvYaml,
  readRequirementsTxt,
  requiresPython,
  supportsNumpy2,
} from "../env/index.js";
import { type Finding, sortFindings, userError } from "../shared/index.js";

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

/** Installers, not libraries the model imports: their pins say nothing about the model's Python. */
const BUILD_TOOLS = new Set(["pip", "setuptools", "wheel"]);

/** The oldest CPython 3 minor release that every rule allows, if any. */
function oldestPythonForAll(rules: string[]): string | undefined {
  for (let minor = 6; minor <= 14; minor++) {
    if (rules.every((rule) => pythonSatisfies(`3.${minor}`, rule))) return `3.${minor}`;
  }
  return undefined;
}

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

function envFileNames(mlmodel: MlModel): { conda?: string; virtualenv?: string } {
  const env = mlmodel.flavors.python_function?.env;
  if (typeof env === "string") return { conda: env };
  if (env && typeof env === "object") {
    const e = env as { conda?: unknown; virtualenv?: unknown };
    return {
      ...(typeof e.conda === "string" ? { conda: e.conda } : {}),
      ...(typeof e.virtualenv === "string" ? { virtualenv: e.virtualenv } : {}),
    };
  }
  return {};
}

function signatureFindings(dir: string, mlmodel: MlModel): Finding[] {
  const findings: Finding[] = [];
  const signature = mlmodel.signature;
  let inputs: SchemaEntry[] | undefined;
  if (!signature || (signature.inputs === undefined && signature.outputs === undefined)) {
    findings.push({
      code: "SignatureMissing",
      severity: "warning",
      message:
        "MLmodel has no signature, so requests cannot be checked against the model's inputs before it runs",
      evidence: { file: MLMODEL_FILE, key: "signature" },
      fix: "Log the model with signature=infer_signature(X, model.predict(X)).",
    });
  } else {
    for (const part of ["inputs", "outputs", "params"] as const) {
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

function majorMinor(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

/** The environment checks: pins, drift against MLmodel, and pins that cannot resolve together. */
function environmentFindings(dir: string, mlmodel: MlModel): Finding[] {
  const findings: Finding[] = [];
  const names = envFileNames(mlmodel);
  const envs: DeclaredEnvironment[] = [];
  const referenced = [names.conda, names.virtualenv].filter((f): f is string => typeof f === "string");
  for (const file of referenced) {
    if (!existsSync(join(dir, file))) {
      findings.push({
        code: "EnvFileMissing",
        severity: "error",
        message: `MLmodel references ${file}, but the model folder has no ${file}`,
        evidence: { file: MLMODEL_FILE, key: `flavors.python_function.env`, value: file },
        fix: `Add the ${file} the model was logged with, or log the model again so MLflow writes it.`,
      });
    }
  }
  const condaFile = names.conda ?? (existsSync(join(dir, "conda.yaml")) ? "conda.yaml" : undefined);
  if (condaFile && existsSync(join(dir, condaFile))) envs.push(readCondaYaml(dir, condaFile));
  const venvFile =
    names.virtualenv ?? (existsSync(join(dir, "python_env.yaml")) ? "python_env.yaml" : undefined);
  if (venvFile && existsSync(join(dir, venvFile))) envs.push(readPythonEnvYaml(dir, venvFile));
  if (
    existsSync(join(dir, "requirements.txt")) &&
    !envs.some((e) => e.packages.some((p) => p.file === "requirements.txt"))
  ) {
    envs.push(readRequirementsTxt(dir));
  }
  if (mlmodel.flavors.python_function && referenced.length === 0 && envs.length === 0) {
    findings.push({
      code: "EnvNotDeclared",
      severity: "warning",
      message: "The model declares no environment (no conda.yaml, python_env.yaml or requirements.txt)",
      evidence: { file: MLMODEL_FILE, key: "flavors.python_function.env" },
      fix: "Log the model with MLflow ≥ 2, which writes pinned env files, or add a requirements.txt with exact pins.",
    });
  }

  for (const env of envs) {
    for (const problem of env.problems) {
      findings.push({
        code: "EnvFileMalformed",
        severity: "error",
        message: `${env.file} ${problem}`,
        evidence: { file: env.file },
        fix: `Fix ${env.file}; see MLflow's environment file format.`,
      });
    }
    for (const req of [...env.packages, ...(env.python ? [env.python] : [])]) {
      if (req.problem) {
        findings.push({
          code: "RequirementMalformed",
          severity: "error",
          message: `${env.file} line ${req.line}: '${req.raw}' is ${req.problem}`,
          evidence: { file: env.file, line: req.line, value: req.raw },
          fix: "Write it as name==version.",
        });
      }
    }
  }

  // Unpinned packages, reported once per package with every file that leaves it open.
  const unpinned = new Map<string, Requirement[]>();
  for (const env of envs) {
    for (const req of env.packages) {
      if (req.specifier === "" && !req.problem && req.name !== "pip")
        unpinned.set(req.name, [...(unpinned.get(req.name) ?? []), req]);
    }
  }
  for (const [name, reqs] of unpinned) {
    findings.push({
      code: "PackageUnpinned",
      severity: "warning",
      message: `${name} is not pinned (${reqs.map((r) => `${r.file} line ${r.line}`).join(", ")}), so each build may install a different version`,
      evidence: { file: reqs[0]!.file, line: reqs[0]!.line, value: reqs[0]!.raw },
      fix: `Pin it to the version the model was trained with: ${name}==<version>.`,
    });
  }

  // The same package pinned differently in two files.
  const pins = new Map<string, Requirement[]>();
  for (const env of envs) {
    for (const req of [...env.packages, ...(env.python ? [env.python] : [])]) {
      if (req.pinned) pins.set(req.name, [...(pins.get(req.name) ?? []), req]);
    }
  }
  for (const env of envs) {
    if (env.python && !env.python.pinned && env.python.specifier)
      pins.set("python", [...(pins.get("python") ?? []), env.python]);
  }
  for (const [name, reqs] of pins) {
    const versions = new Set(
      reqs.map((r) =>
        name === "python"
          ? majorMinor(r.pinned ?? r.specifier.replace(/^==/, "").replace(".*", ""))
          : r.pinned,
      ),
    );
    if (versions.size > 1) {
      findings.push({
        code: "EnvFilesDisagree",
        severity: "warning",
        message: `${name} is pinned differently across the env files: ${reqs.map((r) => `${r.raw.trim()} (${r.file})`).join(" vs ")}; conda and virtualenv builds would get different environments`,
        evidence: { file: reqs[0]!.file, line: reqs[0]!.line, value: reqs.map((r) => r.raw).join(" | ") },
        fix: `Make every env file pin the same ${name} version (the one the model was trained with).`,
      });
    }
  }

  const pinnedVersion = (name: string): Requirement | undefined => pins.get(name)?.[0];

  // MLmodel vs env files: Python, mlflow, and each flavor's library version.
  const pyfuncPython = mlmodel.flavors.python_function?.python_version;
  if (pyfuncPython !== undefined) {
    for (const env of envs) {
      if (!env.python) continue;
      const envPython = env.python.pinned ?? env.python.specifier.replace(/^==/, "").replace(".*", "");
      if (envPython && majorMinor(envPython) !== majorMinor(String(pyfuncPython))) {
        findings.push({
          code: "PythonVersionMismatch",
          severity: "warning",
          message: `MLmodel says the model was saved with Python ${pyfuncPython}, but ${env.file} asks for Python ${envPython}`,
          evidence: { file: env.file, line: env.python.line, value: env.python.raw },
          fix: `Pin python=${pyfuncPython} in ${env.file} (the Python the model was saved with).`,
        });
      }
    }
  }
  if (mlmodel.mlflow_version) {
    const mlflowPin = pinnedVersion("mlflow");
    if (mlflowPin?.pinned && mlflowPin.pinned !== mlmodel.mlflow_version) {
      findings.push({
        code: "MlflowVersionMismatch",
        severity: "warning",
        message: `MLmodel was written by mlflow ${mlmodel.mlflow_version}, but the environment pins ${mlflowPin.raw.trim()} (${mlflowPin.file})`,
        evidence: { file: mlflowPin.file, line: mlflowPin.line, value: mlflowPin.raw },
        fix: `Pin mlflow==${mlmodel.mlflow_version} in every env file.`,
      });
    } else if (!mlflowPin && unpinned.has("mlflow")) {
      findings.push({
        code: "MlflowVersionMismatch",
        severity: "warning",
        message: `MLmodel was written by mlflow ${mlmodel.mlflow_version}, but mlflow is unpinned, so the newest mlflow (maybe another major version) will load it`,
        evidence: { file: unpinned.get("mlflow")![0]!.file, value: "mlflow" },
        fix: `Pin mlflow==${mlmodel.mlflow_version}.`,
      });
    }
  }
  for (const [flavor, config] of Object.entries(mlmodel.flavors)) {
    for (const [key, pkg] of Object.entries(flavorVersionKeys())) {
      const saved = config?.[key];
      if (saved === undefined || saved === null) continue;
      const pin = pinnedVersion(pkg);
      if (pin?.pinned && pin.pinned !== String(saved)) {
        findings.push({
          code: "FlavorVersionMismatch",
          severity: "warning",
          message: `The model was saved with ${pkg} ${saved} (flavors.${flavor}.${key}), but ${pin.file} pins ${pin.raw.trim()}; ${majorMinor(pin.pinned) === majorMinor(String(saved)) ? "a patch release apart" : "objects saved by one minor version may not load in another"}`,
          evidence: { file: pin.file, line: pin.line, key: `flavors.${flavor}.${key}`, value: pin.raw },
          fix: `Pin ${pkg}==${saved} (the version that saved the model), or retrain with ${pkg} ${pin.pinned}.`,
        });
      }
    }
  }

  findings.push(...resolutionFindings(envs, mlmodel));
  return findings;
}

/** Pins that cannot resolve together: Requires-Python, numpy 2 ABI, and libraries no flavor uses. */
function resolutionFindings(envs: DeclaredEnvironment[], mlmodel: MlModel): Finding[] {
  const findings: Finding[] = [];
  const unknown = new Map<string, Requirement>();
  for (const env of envs) {
    const python = env.python?.pinned ?? env.python?.specifier.replace(/^==/, "").replace(".*", "");
    const rules: string[] = [];
    const blocking: { req: Requirement; rule: string }[] = [];
    for (const req of env.packages) {
      if (!req.pinned || BUILD_TOOLS.has(req.name)) continue;
      if (!isKnownPackage(req.name)) {
        if (!unknown.has(req.name)) unknown.set(req.name, req);
        continue;
      }
      const rule = requiresPython(req.name, req.pinned);
      if (!rule.known) {
        if (!unknown.has(req.name)) unknown.set(req.name, req);
        continue;
      }
      rules.push(rule.value);
      if (python && !pythonSatisfies(python, rule.value)) blocking.push({ req, rule: rule.value });
    }
    const oldest = oldestPythonForAll(rules);
    for (const { req, rule } of blocking) {
      findings.push({
        code: "PythonUnsupported",
        severity: "error",
        message: `${req.name} ${req.pinned} requires Python ${rule}, but ${env.file} pins Python ${python}: this environment cannot be resolved`,
        evidence: {
          file: env.file,
          line: req.line,
          value: `${req.raw.trim()} with ${env.python!.raw.trim()}`,
        },
        fix: oldest
          ? `In ${env.file}, pin python=${oldest} (the oldest Python every pinned package here supports), or pin a ${req.name} release that supports Python ${python}.`
          : `The pins in ${env.file} need Pythons that do not overlap; pin a ${req.name} release that supports Python ${python}.`,
      });
    }
    const numpy = env.packages.find((r) => r.name === "numpy" && r.pinned);
    if (numpy?.pinned && Number(numpy.pinned.split(".")[0]) >= 2) {
      for (const req of env.packages) {
        if (!req.pinned || req.name === "numpy") continue;
        const abi = supportsNumpy2(req.name, req.pinned);
        if (abi.known && !abi.value) {
          findings.push({
            code: "NumpyAbiConflict",
            severity: "error",
            message: `${env.file} pins numpy ${numpy.pinned} with ${req.name} ${req.pinned}, which was built for numpy 1 and fails to import under numpy 2 ("numpy.dtype size changed, may indicate binary incompatibility")`,
            evidence: { file: env.file, line: req.line, value: `${numpy.raw.trim()} + ${req.raw.trim()}` },
            fix: `Pin numpy<2 (e.g. numpy==1.26.4), or upgrade ${req.name} to a release built for numpy 2.`,
          });
        }
      }
    }
  }

  const needed = new Set(Object.keys(mlmodel.flavors).flatMap(flavorPackages));
  const frameworks = frameworkPackages();
  const reported = new Set<string>();
  for (const env of envs) {
    for (const req of env.packages) {
      if (!frameworks.has(req.name) || needed.has(req.name) || reported.has(req.name)) continue;
      reported.add(req.name);
      findings.push({
        code: "PackageNotNeeded",
        severity: "warning",
        message: `${req.name} is in ${env.file}, but no flavor of this model (${Object.keys(mlmodel.flavors).join(", ")}) loads it; it only adds install time and version conflicts`,
        evidence: { file: env.file, line: req.line, value: req.raw },
        fix: `Remove ${req.name} from the env files, unless the pickled model itself contains a ${req.name} object.`,
      });
    }
  }
  if (unknown.size > 0) {
    findings.push({
      code: "CompatibilityUnknown",
      severity: "info",
      message: `pier has no Requires-Python or ABI data for ${[...unknown.values()].map((r) => `${r.name} ${r.pinned}`).join(", ")}; whether they install on the pinned Python is unknown`,
      evidence: { file: [...unknown.values()][0]!.file, value: [...unknown.keys()].join(", ") },
      fix: "Check those packages' Requires-Python on their release pages before deploying to that Python.",
    });
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

/** Validates `dir` as an MLflow model directory; never throws for problems in the model. */
export function validateModelDir(dir: string): ValidationResult {
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
      ...environmentFindings(dir, mlmodel),
      ...safetyFindings(mlmodel),
    ]),
  };
}
