/**
 * The one environment preflight, run before any instance starts by `deployment create` (which builds
 * what is missing), by `pier doctor --model` (which only checks) and, in its static part, by
 * registration (package.ts): the declared environment's pins, the interpreter that would run the
 * model compared with them, and the imports of its pickle.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { listFolderFiles, modelLoader, requireModelFolder, type ValidationResult } from "../model/index.js";
import { type Finding, hasErrors, PierError } from "../shared/index.js";
import { checkDeclaredEnvironments } from "./check.js";
import { parseCondaYamlText } from "./env-files.js";
import type { InterpreterReport } from "./interpreter.js";
import { validateModelDir } from "./package.js";
import { pickleFindings, scanPickle } from "./pickle-scan.js";
import {
  checkedInterpreter,
  describeInterpreter,
  type EnvironmentContext,
  environmentError,
  type ModelFacts,
  mlflowNeeds,
  scriptNeeds,
} from "./selection.js";

/** Env files an MLflow model may carry; their contents are recorded with a registered version. */
export const ENV_FILES = ["conda.yaml", "python_env.yaml", "requirements.txt", "constraints.txt"];

/** What to prepare: an MLflow model, or a scoring script with its model folder and conda file. */
export interface EnvironmentTarget {
  model: ModelFacts;
  /** A scoring script's environment.conda_file (its text and name), null when it has none; absent for MLflow models. */
  conda?: { text: string; file: string } | null;
}

export interface PreflightOptions {
  home: string;
  /** An interpreter to try first (a deployment's environment_variables.PIER_PYTHON). */
  preferredPython?: string;
  /** check: say what a deployment would build; build: build it now, once per set of pins. */
  mode: "check" | "build";
  progress?: (message: string) => void;
  /** Where a file of the model can be read (its blob in the store, or the folder); for the pickle scan. */
  artifactPath?: (relativePath: string) => string | undefined;
}

export interface PreflightResult {
  /** The interpreter that will run the model; none for a model ONNX Runtime serves in Node. */
  interpreter?: InterpreterReport;
  /** "onnx (onnxruntime-node)", or the interpreter in words. */
  description: string;
  /** Warnings and notes; errors are thrown as the error a deployment would end with. */
  findings: Finding[];
}

/** Checks (and in build mode prepares) the environment a model or scoring script needs; throws what would fail. */
export async function preflightEnvironment(
  target: EnvironmentTarget,
  options: PreflightOptions,
): Promise<PreflightResult> {
  const context: EnvironmentContext = {
    home: options.home,
    progress: options.progress ?? (() => {}),
    preflight: options.mode === "check",
    ...(options.artifactPath ? { artifactPath: options.artifactPath } : {}),
  };
  // A scoring script's environment is its conda file, whatever the model folder holds.
  const script = target.conda !== undefined;
  const loader = script ? undefined : modelLoader(target.model);
  if (loader?.kind === "onnx") return { description: "onnx (onnxruntime-node)", findings: [] };
  const declared = target.conda ? checkCondaFile(target.conda) : [];
  const { pins, needed } = script ? scriptNeeds(target.conda?.text ?? null) : mlflowNeeds(target.model);
  const { report, findings } = await checkedInterpreter(
    options.preferredPython,
    target.model,
    pins,
    needed,
    context,
  );
  if (loader?.kind === "sklearn")
    findings.push(...(await checkPickle(loader.modelFile, target.model, report, context)));
  return {
    interpreter: report,
    description: describeInterpreter(report),
    findings: [...declared, ...findings],
  };
}

/** A scoring script's conda file gets the same check as a model's env files; errors stop it. */
function checkCondaFile(conda: { text: string; file: string }): Finding[] {
  const findings = checkDeclaredEnvironments([parseCondaYamlText(conda.text, conda.file)]);
  const errors = findings.filter((f) => f.severity === "error");
  if (hasErrors(errors)) throw environmentError(errors, [`environment.conda_file ${conda.file}`]);
  return findings;
}

/**
 * Reads the imports of a pickled sklearn model (without unpickling it) and checks them in the chosen
 * interpreter; throws when unpickling would fail, returns the warnings otherwise.
 */
async function checkPickle(
  relative: string,
  model: ModelFacts,
  report: InterpreterReport,
  context: EnvironmentContext,
): Promise<Finding[]> {
  const file = context.artifactPath?.(relative);
  if (!file) return [];
  // A pickle made by the scikit-learn installed here imports what it has: skip the scan (it costs an
  // interpreter start and a scikit-learn import) unless the versions differ or are unknown.
  const saved = model.mlmodel.flavors.sklearn?.sklearn_version;
  if (saved !== undefined && String(saved) === report.packages["scikit-learn"]) return [];
  const imports = await scanPickle(report.executable, file);
  const problems = imports ? pickleFindings(imports, report, model.mlmodel, relative) : [];
  const errors = problems.filter((f) => f.severity === "error");
  if (errors.length > 0)
    throw environmentError(errors, [`pickle imports read from ${relative} without running it`]);
  return problems;
}

/** Where a model folder's file is, if it is there: what the pickle scan reads for a folder not registered. */
export const fileInFolder =
  (folder: string) =>
  (path: string): string | undefined =>
    existsSync(join(folder, path)) ? join(folder, path) : undefined;

/**
 * What environment checks need from an MLflow model folder, read without registering it; `validation`
 * is the folder's validation when the caller has it already.
 */
export function folderFacts(dir: string, validation?: ValidationResult): ModelFacts {
  const source = requireModelFolder(dir);
  const { mlmodel, findings } = validation ?? validateModelDir(source);
  if (!mlmodel)
    throw new PierError({
      code: "ModelValidationFailed",
      summary: `${source} is not a readable MLflow model: ${findings.map((f) => `${f.code}: ${f.message}`).join("; ")}`,
      fix: `Run \`pier model validate ${dir}\` for the details.`,
    });
  return {
    name: basename(source),
    version: 0,
    flavors: mlmodel.flavors ?? {},
    mlmodel,
    artifacts: listFolderFiles(source).map((path) => ({ path, size: statSync(join(source, path)).size })),
    envFiles: Object.fromEntries(
      ENV_FILES.filter((f) => existsSync(join(source, f))).map((f) => [
        f,
        readFileSync(join(source, f), "utf8"),
      ]),
    ),
  };
}
