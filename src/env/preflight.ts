/**
 * The one environment preflight, run before any instance starts by `deployment create` (which builds
 * what is missing), by `pier doctor --model` (which only checks) and, in its static part, by
 * registration (package.ts): the declared environment's pins, the interpreter that would run the
 * model compared with them, and the imports of its pickles.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { listFolderFiles, modelLoader, requireModelFolder, type ValidationResult } from "../model/index.js";
import { type Finding, PierError } from "../shared/index.js";
import type { EnvironmentRecord } from "./build.js";
import { applyFidelity, checkDeclaredEnvironments, modelEnvironments, onlyUnresolvable } from "./check.js";
import { type DeclaredEnvironment, type FileSource, readCondaYaml } from "./env-files.js";
import {
  compareEnvironment,
  type EnvironmentNeeds,
  type Fidelity,
  type InterpreterReport,
  REPLACED_BY_PIER,
} from "./interpreter.js";
import { validateModelDir } from "./package.js";
import {
  importedModules,
  opcodeReaders,
  PICKLE_FILE,
  pickleFindings,
  pickleMarkerFindings,
  pickleUncertainty,
  scanPickle,
} from "./pickle-scan.js";
import type { Requirement } from "./requirements.js";
import {
  buildEnvironmentWith,
  describeInterpreter,
  type EnvironmentContext,
  environmentError,
  type ModelFacts,
  type ProgressStatus,
  selectEnvironment,
} from "./selection.js";

/** Env files an MLflow model may carry; their contents are recorded with a registered version. */
export const ENV_FILES = ["conda.yaml", "python_env.yaml", "requirements.txt", "constraints.txt"];

/** A scoring script's environment.conda_file: its name, its text, and the files it includes (by path beside it). */
export interface CondaFile {
  file: string;
  text: string;
  includes?: Record<string, string>;
}

/**
 * Reads a conda file named `file` (relative to `dir`, as a deployment YAML names it) with every file
 * its pip list includes, so that the environment can be checked and built later from the snapshot.
 */
export function readCondaFile(dir: string, file: string): CondaFile {
  const text = readFileSync(resolve(dir, file), "utf8");
  const includes: Record<string, string> = {};
  readCondaYaml(file, (path) => {
    if (path === file) return text;
    const full = resolve(dir, path);
    if (!existsSync(full)) return undefined;
    includes[path] = readFileSync(full, "utf8");
    return includes[path];
  });
  return { file, text, ...(Object.keys(includes).length > 0 ? { includes } : {}) };
}

/** What to prepare: an MLflow model, or a scoring script with its model folder and conda file. */
export interface EnvironmentTarget {
  model: ModelFacts;
  /** A scoring script's conda file, null when it has none; absent for MLflow models. */
  conda?: CondaFile | null;
  /** How the user names the model, for the fix's command (`pier env build --model …`). */
  ref?: string;
}

export interface PreflightOptions {
  home: string;
  /** An interpreter to try first (a deployment's environment_variables.PIER_PYTHON). */
  preferredPython?: string | undefined;
  /** check: say what a deployment would build; build: build it now, once per set of pins. */
  mode: "check" | "build";
  fidelity?: Fidelity;
  progress?: (message: string, status?: ProgressStatus) => void;
  /** Where a file of the model can be read (its blob in the store, or the folder); for pickles and includes. */
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

/** Reads a model's files: its recorded env files, else the file itself (blob or folder). */
function modelSource(model: ModelFacts, artifactPath: PreflightOptions["artifactPath"]): FileSource {
  return (path) => {
    if (model.envFiles[path] !== undefined) return model.envFiles[path];
    const file = artifactPath?.(path);
    return file && existsSync(file) ? readFileSync(file, "utf8") : undefined;
  };
}

/**
 * The pins a build installs, and the file they are written in: requirements.txt (MLflow's virtualenv
 * environment, directly or through python_env.yaml), else conda.yaml's pip list.
 */
function pinsFrom(
  environments: DeclaredEnvironment[],
): { packages: Requirement[]; file: string } | undefined {
  const requirements = environments.find(
    (e) => e.file === "requirements.txt" || e.packages.some((p) => p.file === "requirements.txt"),
  );
  if (requirements) return { packages: requirements.packages, file: "requirements.txt" };
  const other = environments.find((e) => e.file.endsWith("conda.yaml")) ?? environments[0];
  return other ? { packages: other.packages, file: other.file } : undefined;
}

/** What an MLflow model needs: its pins, the libraries its flavors load, its Python. */
function mlflowNeeds(model: ModelFacts, source: FileSource, ref: string): EnvironmentNeeds {
  const loader = modelLoader(model);
  const loaderNeeds =
    loader.kind === "pyfunc" && !loader.shipped
      ? [loader.loaderModule.split(".")[0]!.replaceAll("_", "-")]
      : [];
  const flavorLibraries = Object.keys(model.flavors).filter((f) => f !== "python_function");
  const { environments } = modelEnvironments(model.mlmodel, source);
  const pins = pinsFrom(environments);
  const python = environments.find((e) => e.python)?.python;
  return {
    pins: pins?.packages ?? [],
    // The flavor's own library first: it is the likelier cause when several are missing.
    needed: [
      ...new Set([...flavorLibraries.map((f) => (f === "sklearn" ? "scikit-learn" : f)), ...loaderNeeds]),
    ],
    ...(python ? { python } : {}),
    pinFile: pins?.file ?? "requirements.txt",
    buildCommand: `pier env build --model ${ref}`,
  };
}

/** What a scoring script needs: every package its conda file pins (less what pier replaces), and its Python. */
function scriptNeeds(
  environment: DeclaredEnvironment | undefined,
  conda: CondaFile | null,
): EnvironmentNeeds {
  const pins = (environment?.packages ?? []).filter((p) => !REPLACED_BY_PIER.has(p.name));
  return {
    pins,
    needed: pins.filter((p) => p.name !== "pip" && !p.problem && !(p.direct && !p.pinned)).map((p) => p.name),
    ...(environment?.python ? { python: environment.python } : {}),
    pinFile: conda?.file ?? "conda.yaml",
    buildCommand: conda
      ? `pier env build --conda-file ${conda.file}`
      : "pier env build --conda-file <conda.yaml>",
  };
}

/** A scoring script's conda file, read completely and checked like a model's env files; errors stop it. */
function checkCondaFile(
  conda: CondaFile,
  fidelity: Fidelity,
): { environment: DeclaredEnvironment; findings: Finding[] } {
  const source: FileSource = (path) => (path === conda.file ? conda.text : conda.includes?.[path]);
  const environment = readCondaYaml(conda.file, source);
  const findings = applyFidelity(checkDeclaredEnvironments([environment]), fidelity);
  const errors = findings.filter((f) => f.severity === "error");
  if (onlyUnresolvable(errors))
    throw environmentError(
      findings,
      [`environment.conda_file ${conda.file}: Azure's image build could not resolve these pins either`],
      "EnvironmentUnresolvable",
    );
  if (errors.length > 0) throw environmentError(findings, [`environment.conda_file ${conda.file}`]);
  return { environment, findings };
}

/** The top-level modules a model's pickles import, read from their opcodes by the first Python that runs. */
async function pickleModules(
  pickles: readonly string[],
  artifactPath: PreflightOptions["artifactPath"],
  ships: (module: string) => boolean,
): Promise<Set<string>> {
  const modules = new Set<string>();
  for (const relativePath of pickles) {
    const file = artifactPath?.(relativePath);
    if (!file) continue;
    for (const python of opcodeReaders()) {
      const scan = await scanPickle(python, file, false);
      if (!scan) continue;
      for (const module of importedModules(scan)) if (!ships(module)) modules.add(module);
      break;
    }
  }
  return modules;
}

/** Whether a module ships in the model (or its `code` folder): a .py file or a package folder there. */
function shipsWith(model: ModelFacts) {
  const code = model.flavors.python_function?.code;
  const roots = ["", ...(typeof code === "string" ? [`${code}/`] : [])];
  const paths = new Set(model.artifacts.map((a) => a.path));
  return (module: string) => {
    const path = module.replaceAll(".", "/");
    return roots.some((root) => paths.has(`${root}${path}.py`) || paths.has(`${root}${path}/__init__.py`));
  };
}

/** MLmodel's python_function `code` folder (code_paths), and the files the package has under it. */
function codeFolderOf(model: ModelFacts): { codeFolder?: { name: string; files: string[] } } {
  const code = model.flavors.python_function?.code;
  if (typeof code !== "string" || code === "") return {};
  const name = code.replace(/\/+$/, "");
  return {
    codeFolder: { name, files: model.artifacts.map((a) => a.path).filter((p) => p.startsWith(`${name}/`)) },
  };
}

/** Checks (and in build mode prepares) the environment a model or scoring script needs; throws what would fail. */
export async function preflightEnvironment(
  target: EnvironmentTarget,
  options: PreflightOptions,
): Promise<PreflightResult> {
  const fidelity = options.fidelity ?? "default";
  const context: EnvironmentContext = {
    home: options.home,
    progress: options.progress ?? (() => {}),
    preflight: options.mode === "check",
    named: [options.preferredPython, process.env.PIER_PYTHON],
  };
  const model = target.model;
  // A scoring script's environment is its conda file, whatever the model folder holds.
  const script = target.conda !== undefined;
  const loader = script ? undefined : modelLoader(model);
  if (loader?.kind === "onnx") return { description: "onnx (onnxruntime-node)", findings: [] };
  const declared = target.conda ? checkCondaFile(target.conda, fidelity) : undefined;
  const ref = target.ref ?? `models:/${model.name}/${model.version}`;
  const needs = script
    ? scriptNeeds(declared?.environment, target.conda ?? null)
    : mlflowNeeds(model, modelSource(model, options.artifactPath), ref);
  const savedWith = model.mlmodel.flavors.sklearn?.sklearn_version;
  // The pickles to read: an MLflow sklearn model's own, or every pickle in a scoring script's model folder.
  const pickles =
    loader?.kind === "sklearn"
      ? [loader.modelFile]
      : script
        ? model.artifacts
            .map((a) => a.path)
            .filter((p) => PICKLE_FILE.test(p))
            .slice(0, 20)
        : [];
  const ships = shipsWith(model);
  // What the pickles import, read statically (fast, no imports): every interpreter is probed for those modules.
  const imported = await pickleModules(pickles, options.artifactPath, ships);
  needs.probeModules = [...imported];
  const check = async (report: InterpreterReport): Promise<Finding[]> => {
    const findings = compareEnvironment(report, needs, script ? undefined : model.mlmodel, fidelity);
    // A pickle made by the scikit-learn installed here, whose every module imports here, loads: skip the
    // full scan (it costs an interpreter start and a scikit-learn import) unless something differs.
    if (
      savedWith !== undefined &&
      String(savedWith) === report.packages["scikit-learn"] &&
      [...imported].every((m) => report.importable[m])
    )
      return findings;
    for (const relativePath of pickles) {
      const file = options.artifactPath?.(relativePath);
      if (!file) continue;
      const scan = await scanPickle(report.executable, file, true);
      if (!scan) continue;
      const pickleContext = {
        file: relativePath,
        buildCommand: needs.buildCommand,
        pinFile: needs.pinFile,
        interpreter: report,
        pins: needs.pins,
        ...(savedWith !== undefined ? { savedWith: { "scikit-learn": String(savedWith) } } : {}),
        ships,
        ...codeFolderOf(model),
      };
      const errors = pickleFindings(scan, pickleContext);
      findings.push(
        ...errors,
        ...(errors.length === 0 ? pickleMarkerFindings(scan, pickleContext) : []),
        ...pickleUncertainty(scan, relativePath),
      );
    }
    return findings.map((f) =>
      // In cloud fidelity a pickle from another scikit-learn is a difference from what the cloud would run.
      fidelity === "cloud" && f.code === "PickleVersionDrift" ? { ...f, severity: "error" } : f,
    );
  };
  const { report, findings } = await selectEnvironment(needs, check, context);
  return {
    interpreter: report,
    description: describeInterpreter(report),
    findings: [...(declared?.findings ?? []), ...findings],
  };
}

/**
 * `pier env build`: builds (or finds) the environment a deployment of this model, or of a scoring
 * script with this conda file, would use, on the interpreter the deployment would choose.
 */
export function buildEnvironmentFor(
  target: EnvironmentTarget,
  options: Omit<PreflightOptions, "mode" | "fidelity">,
): Promise<EnvironmentRecord> {
  const script = target.conda !== undefined;
  const needs = script
    ? scriptNeeds(
        target.conda ? checkCondaFile(target.conda, "default").environment : undefined,
        target.conda ?? null,
      )
    : mlflowNeeds(
        target.model,
        modelSource(target.model, options.artifactPath),
        target.ref ?? target.model.name,
      );
  return buildEnvironmentWith(needs, {
    home: options.home,
    progress: options.progress ?? (() => {}),
    named: [options.preferredPython, process.env.PIER_PYTHON],
  });
}

/** Where a model folder's file is, if it is there (and inside it): what the checks read for a folder not registered. */
export const fileInFolder =
  (folder: string) =>
  (path: string): string | undefined => {
    const full = resolve(folder, path);
    return !relative(resolve(folder), full).startsWith("..") && existsSync(full) ? full : undefined;
  };

/**
 * What environment checks need from an MLflow model folder, read without registering it; `validation`
 * is the folder's validation when the caller has it already.
 */
export async function folderFacts(dir: string, validation?: ValidationResult): Promise<ModelFacts> {
  const source = requireModelFolder(dir);
  const { mlmodel, findings } = validation ?? (await validateModelDir(source));
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
