/**
 * The one check of a declared environment, whoever declares it: an MLflow model's env files, a
 * scoring script's conda file, an environment YAML. It reads pins only (nothing is installed or
 * run) and returns findings: files that cannot be read, pins that are malformed or left open, pins
 * that disagree across files or with what the model was saved with, and pins that cannot resolve
 * together (a package that does not support the pinned Python, numpy 2 with packages built for 1).
 */
import { MLMODEL_FILE, type MlModel } from "../model/index.js";
import type { Finding } from "../shared/index.js";
import {
  type DeclaredEnvironment,
  type FileSource,
  readCondaYaml,
  readPythonEnvYaml,
  readRequirementsTxt,
} from "./env-files.js";
import {
  flavorPackages,
  flavorVersionKeys,
  frameworkPackages,
  importNameOf,
  isKnownPackage,
  pythonSatisfies,
  requiresPython,
  supportsNumpy2,
} from "./knowledge.js";
import type { Requirement } from "./requirements.js";

/** Installers, not libraries the model imports: their pins say nothing about the model's Python. */
const BUILD_TOOLS = new Set(["pip", "setuptools", "wheel"]);

/** The numpy 1 release to pin when numpy 2 meets a package built for numpy 1. */
const LAST_NUMPY_1 = "1.26.4";

const majorMinor = (version: string): string => version.split(".").slice(0, 2).join(".");

/** The Python version a spec such as "==3.8.*" or "3.11.12" names, without the operator. */
const pythonOf = (req: Requirement): string =>
  req.pinned ?? req.specifier.replace(/^==/, "").replace(".*", "");

/** The oldest CPython 3 minor release that every rule allows, if any. */
function oldestPythonForAll(rules: string[]): string | undefined {
  for (let minor = 6; minor <= 14; minor++) {
    if (rules.every((rule) => pythonSatisfies(`3.${minor}`, rule))) return `3.${minor}`;
  }
  return undefined;
}

/** The env files of an MLflow model, as MLmodel names them (python_function.env). */
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

/**
 * The environments an MLflow model declares (conda.yaml, python_env.yaml, requirements.txt, and what
 * they include), read through `source`, with findings for files MLmodel names but the model lacks,
 * and for a model that declares none.
 */
export function modelEnvironments(
  mlmodel: MlModel,
  source: FileSource,
): { environments: DeclaredEnvironment[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const names = envFileNames(mlmodel);
  const environments: DeclaredEnvironment[] = [];
  const exists = (file: string) => source(file) !== undefined;
  const referenced = [names.conda, names.virtualenv].filter((f): f is string => typeof f === "string");
  for (const file of referenced) {
    if (!exists(file)) {
      findings.push({
        code: "EnvFileMissing",
        severity: "error",
        message: `MLmodel references ${file}, but the model folder has no ${file}`,
        evidence: { file: MLMODEL_FILE, key: `flavors.python_function.env`, value: file },
        fix: `Add the ${file} the model was logged with, or log the model again so MLflow writes it.`,
      });
    }
  }
  const condaFile = names.conda ?? (exists("conda.yaml") ? "conda.yaml" : undefined);
  if (condaFile && exists(condaFile)) environments.push(readCondaYaml(condaFile, source));
  const venvFile = names.virtualenv ?? (exists("python_env.yaml") ? "python_env.yaml" : undefined);
  if (venvFile && exists(venvFile)) environments.push(readPythonEnvYaml(venvFile, source));
  if (
    exists("requirements.txt") &&
    !environments.some((e) => e.packages.some((p) => p.file === "requirements.txt"))
  ) {
    environments.push(readRequirementsTxt("requirements.txt", source));
  }
  if (mlmodel.flavors.python_function && referenced.length === 0 && environments.length === 0) {
    findings.push({
      code: "EnvNotDeclared",
      severity: "warning",
      message: "The model declares no environment (no conda.yaml, python_env.yaml or requirements.txt)",
      evidence: { file: MLMODEL_FILE, key: "flavors.python_function.env" },
      fix: "Log the model with MLflow ≥ 2, which writes pinned env files, or add a requirements.txt with exact pins.",
    });
  }
  return { environments, findings };
}

/** What the check knows about the model whose environment it is; nothing for a scoring script's. */
export interface EnvironmentSubject {
  /** The MLmodel: which flavors load, and the versions the model was saved with. */
  mlmodel?: MlModel;
  /** Top-level modules the model's pickles import (read from their opcodes): packages it needs. */
  imports?: ReadonlySet<string>;
}

/** Every finding about a set of declared environments (one model's files, or one conda file). */
export function checkDeclaredEnvironments(
  environments: readonly DeclaredEnvironment[],
  subject: EnvironmentSubject = {},
): Finding[] {
  return [
    ...readingFindings(environments),
    ...pinFindings(environments, subject.mlmodel),
    ...resolutionFindings(environments),
    ...(subject.mlmodel ? unneededFindings(environments, subject.mlmodel, subject.imports ?? new Set()) : []),
    ...unknownFindings(environments),
  ];
}

/** Files that could not be read, and lines that are not requirements. */
function readingFindings(environments: readonly DeclaredEnvironment[]): Finding[] {
  const findings: Finding[] = [];
  for (const env of environments) {
    for (const problem of env.problems) {
      findings.push({
        code: problem.code,
        severity: "error",
        message: `${problem.file}${problem.line ? ` line ${problem.line}` : ""} ${problem.message}`,
        evidence: { file: problem.file, ...(problem.line ? { line: problem.line } : {}) },
        fix:
          problem.code === "EnvFileMissing"
            ? `Add the file to the model folder (log the model again so MLflow writes it), or remove the line that names it.`
            : `Fix ${problem.file}${problem.line ? ` at line ${problem.line}` : ""}; see MLflow's environment file format.`,
      });
    }
    for (const req of env.packages.filter((r) => r.direct && !r.problem)) {
      const direct = req.direct!;
      findings.push({
        code: "RequirementDirectReference",
        severity: "warning",
        message: `${req.file} line ${req.line}: ${req.name} comes from ${direct.kind === "vcs" ? "version control" : direct.kind === "url" ? "a URL" : "a local path"} (${direct.location})${direct.editable ? ", editable" : ""}${direct.nameFromRepository ? " (named after its repository: pip reads the real name when it builds it)" : ""}, not the package index: ${req.pinned ? `version ${req.pinned} from its file name` : "pier cannot know its version"}, and a build needs ${direct.kind === "path" ? "that path beside the model" : "network access to it"}`,
        evidence: { file: req.file, line: req.line, value: req.raw.trim() },
        fix: `Pin a released version instead (${req.name}==<version>) so every build gets the same package, or make sure ${direct.location} is reachable where the model is built.`,
        subject: { package: req.name },
      });
    }
    for (const option of env.options) {
      findings.push({
        code: "RequirementOptionIgnored",
        severity: "warning",
        message: `${option.file} line ${option.line}: '${option.text}' is a pip option; pier builds environments from its own package source (PIER_PIP_FIND_LINKS or PIER_PIP_INDEX_URL), not this one`,
        evidence: { file: option.file, line: option.line, value: option.text },
        fix: "Point PIER_PIP_INDEX_URL (or PIER_PIP_FIND_LINKS) at a source that has these packages when building locally; the option stays for Azure's build.",
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
  return findings;
}

/** Pins left open, pins that disagree across files, and pins that differ from what the model was saved with. */
function pinFindings(environments: readonly DeclaredEnvironment[], mlmodel: MlModel | undefined): Finding[] {
  const findings: Finding[] = [];
  // Unpinned packages, reported once per package with every file that leaves it open.
  const unpinned = new Map<string, Requirement[]>();
  for (const env of environments) {
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
      subject: { package: name },
    });
  }

  // The same package pinned differently in two files.
  const pins = new Map<string, Requirement[]>();
  for (const env of environments) {
    for (const req of [...env.packages, ...(env.python ? [env.python] : [])]) {
      if (req.pinned) pins.set(req.name, [...(pins.get(req.name) ?? []), req]);
    }
  }
  for (const env of environments) {
    if (env.python && !env.python.pinned && env.python.specifier)
      pins.set("python", [...(pins.get("python") ?? []), env.python]);
  }
  for (const [name, reqs] of pins) {
    const versions = new Set(reqs.map((r) => (name === "python" ? majorMinor(pythonOf(r)) : r.pinned)));
    if (versions.size > 1) {
      findings.push({
        code: "EnvFilesDisagree",
        severity: "warning",
        message: `${name} is pinned differently across the env files: ${reqs.map((r) => `${r.raw.trim()} (${r.file})`).join(" vs ")}; conda and virtualenv builds would get different environments`,
        evidence: { file: reqs[0]!.file, line: reqs[0]!.line, value: reqs.map((r) => r.raw).join(" | ") },
        fix: `Make every env file pin the same ${name} version (the one the model was trained with).`,
        subject: { package: name },
      });
    }
  }
  if (!mlmodel) return findings;

  const pinnedVersion = (name: string): Requirement | undefined => pins.get(name)?.[0];
  // MLmodel vs env files: Python, mlflow, and each flavor's library version.
  const pyfuncPython = mlmodel.flavors.python_function?.python_version;
  if (pyfuncPython !== undefined) {
    for (const env of environments) {
      if (!env.python) continue;
      const envPython = pythonOf(env.python);
      if (envPython && majorMinor(envPython) !== majorMinor(String(pyfuncPython))) {
        findings.push({
          code: "PythonVersionMismatch",
          severity: "warning",
          message: `MLmodel says the model was saved with Python ${pyfuncPython}, but ${env.file} asks for Python ${envPython}`,
          evidence: { file: env.file, line: env.python.line, value: env.python.raw },
          fix: `Pin python=${pyfuncPython} in ${env.file} (the Python the model was saved with).`,
          subject: { package: "python", version: String(pyfuncPython), python: envPython },
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
        subject: { package: "mlflow", version: mlmodel.mlflow_version },
      });
    } else if (!mlflowPin && unpinned.has("mlflow")) {
      findings.push({
        code: "MlflowVersionMismatch",
        severity: "warning",
        message: `MLmodel was written by mlflow ${mlmodel.mlflow_version}, but mlflow is unpinned, so the newest mlflow (maybe another major version) will load it`,
        evidence: { file: unpinned.get("mlflow")![0]!.file, value: "mlflow" },
        fix: `Pin mlflow==${mlmodel.mlflow_version}.`,
        subject: { package: "mlflow", version: mlmodel.mlflow_version },
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
          actions: [{ kind: "pin", file: pin.file, requirement: `${pkg}==${saved}` }],
          subject: { package: pkg, version: String(saved) },
        });
      }
    }
  }
  return findings;
}

/** Pins that cannot resolve together: a package that does not support the pinned Python, numpy 2 with packages built for 1. */
function resolutionFindings(environments: readonly DeclaredEnvironment[]): Finding[] {
  const findings: Finding[] = [];
  for (const env of environments) {
    const python = env.python ? pythonOf(env.python) : undefined;
    const rules: string[] = [];
    const blocking: { req: Requirement; rule: string }[] = [];
    for (const req of env.packages) {
      if (!req.pinned || BUILD_TOOLS.has(req.name)) continue;
      const rule = requiresPython(req.name, req.pinned);
      if (!rule.known) continue;
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
        actions: oldest ? [{ kind: "pin", file: env.file, requirement: `python==${oldest}` }] : [],
        subject: { package: req.name, version: req.pinned!, requires: rule, ...(python ? { python } : {}) },
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
            fix: `Pin numpy<2 (e.g. numpy==${LAST_NUMPY_1}), or upgrade ${req.name} to a release built for numpy 2.`,
            actions: [{ kind: "pin", file: env.file, requirement: `numpy==${LAST_NUMPY_1}` }],
            subject: { package: req.name, version: req.pinned },
          });
        }
      }
    }
  }
  return findings;
}

/** Framework packages that neither a flavor of the model loads nor its pickles import. */
function unneededFindings(
  environments: readonly DeclaredEnvironment[],
  mlmodel: MlModel,
  imports: ReadonlySet<string>,
): Finding[] {
  const findings: Finding[] = [];
  const needed = new Set(Object.keys(mlmodel.flavors).flatMap(flavorPackages));
  for (const env of environments)
    for (const req of env.packages) if (imports.has(importNameOf(req.name))) needed.add(req.name);
  const frameworks = frameworkPackages();
  const reported = new Set<string>();
  for (const env of environments) {
    for (const req of env.packages) {
      if (!frameworks.has(req.name) || needed.has(req.name) || reported.has(req.name)) continue;
      reported.add(req.name);
      findings.push({
        code: "PackageNotNeeded",
        severity: "warning",
        message: `${req.name} is in ${env.file}, but no flavor of this model (${Object.keys(mlmodel.flavors).join(", ")}) loads it${imports.size > 0 ? " and its pickle does not import it" : ""}; it only adds install time and version conflicts`,
        evidence: { file: env.file, line: req.line, value: req.raw },
        fix: `Remove ${req.name} from the env files${imports.size > 0 ? " (the model's pickles do not import it either)" : `, unless the pickled model itself contains a ${req.name} object`}.`,
        ...(imports.size > 0
          ? { actions: [{ kind: "unpin" as const, file: env.file, package: req.name }] }
          : {}),
        subject: { package: req.name },
      });
    }
  }
  return findings;
}

/** Pinned packages pier has no compatibility data for: said once, never guessed. */
function unknownFindings(environments: readonly DeclaredEnvironment[]): Finding[] {
  const unknown = new Map<string, Requirement>();
  for (const env of environments) {
    for (const req of env.packages) {
      if (!req.pinned || BUILD_TOOLS.has(req.name) || unknown.has(req.name)) continue;
      if (!isKnownPackage(req.name) || !requiresPython(req.name, req.pinned).known)
        unknown.set(req.name, req);
    }
  }
  if (unknown.size === 0) return [];
  const first = [...unknown.values()][0]!;
  return [
    {
      code: "CompatibilityUnknown",
      severity: "info",
      message: `pier has no Requires-Python or ABI data for ${[...unknown.values()].map((r) => `${r.name} ${r.pinned}`).join(", ")}; whether they install on the pinned Python is unknown`,
      evidence: { file: first.file, value: [...unknown.keys()].join(", ") },
      fix: "Check those packages' Requires-Python on their release pages before deploying to that Python.",
    },
  ];
}

/** Codes of pins that cannot resolve together: an environment Azure's image build would fail on. */
const UNRESOLVABLE = new Set(["PythonUnsupported", "NumpyAbiConflict"]);

/**
 * Findings as the fidelity asks: with `local`, pins the cloud could not resolve are warnings (the
 * environment runs here anyway); otherwise they stay errors.
 */
export function applyFidelity(findings: Finding[], fidelity: "cloud" | "default" | "local"): Finding[] {
  if (fidelity !== "local") return findings;
  return findings.map((f) =>
    UNRESOLVABLE.has(f.code) && f.severity === "error"
      ? { ...f, severity: "warning", message: `${f.message} (run locally anyway: PIER_FIDELITY=local)` }
      : f,
  );
}

/** Whether the errors are pins that cannot resolve together, and nothing else. */
export const onlyUnresolvable = (errors: readonly Finding[]) =>
  errors.length > 0 && errors.every((f) => UNRESOLVABLE.has(f.code));
