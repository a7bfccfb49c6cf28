/**
 * Which Python environment runs a model, chosen before any process starts: a built environment for
 * exactly its pins, else an interpreter that already has what it needs, else one built now (once per
 * set of pins). In a check (the doctor's preflight) nothing is built: what a build would do is said.
 */
import { join } from "node:path";
import { type LoadableModel, type MlModel, modelLoader } from "../model/index.js";
import { type Finding, PierError, toPierError } from "../shared/index.js";
import {
  buildEnvironment,
  checkPackageSource,
  type EnvironmentRecord,
  pipLine,
  readyEnvironment,
} from "./build.js";
import { parseCondaYamlText } from "./env-files.js";
import {
  chooseInterpreter,
  compareEnvironment,
  distributionsToProbe,
  type InterpreterReport,
  importNameOf,
  interpreterCandidates,
  modelPins,
  probeInterpreter,
} from "./interpreter.js";
import type { Requirement } from "./requirements.js";

/** What the environment checks need to know about a model: a registered version, or a folder read in place. */
export interface ModelFacts extends LoadableModel {
  mlmodel: MlModel;
  /** The text of each env file the model carries (conda.yaml, requirements.txt, …). */
  envFiles: Record<string, string>;
  artifacts: readonly { path: string; size: number }[];
}

/** Packages pier itself replaces (the Azure inference server and its helpers): not needed locally. */
const REPLACED_BY_PIER = new Set([
  "azureml-inference-server-http",
  "azureml-defaults",
  "azureml-ai-monitoring",
  "inference-schema",
  "gunicorn",
  "flask",
]);

/** An MLflow model's pins and the distributions it needs to load: its flavors' libraries and its loader module. */
export function mlflowNeeds(model: ModelFacts): { pins: Requirement[]; needed: string[] } {
  const loader = modelLoader(model);
  const loaderNeeds =
    loader.kind === "pyfunc" && !loader.shipped
      ? [loader.loaderModule.split(".")[0]!.replaceAll("_", "-")]
      : [];
  const flavorLibraries = Object.keys(model.flavors).filter((f) => f !== "python_function");
  // The flavor's own library first: it is the likelier cause when several are missing.
  const needed = [
    ...new Set([...flavorLibraries.map((f) => (f === "sklearn" ? "scikit-learn" : f)), ...loaderNeeds]),
  ];
  return { pins: modelPins(model.envFiles), needed };
}

/** A scoring script's pins (its conda file, less what pier replaces) and the distributions it needs: all of them. */
export function scriptNeeds(conda: string | null): { pins: Requirement[]; needed: string[] } {
  const pins = conda
    ? parseCondaYamlText(conda, "conda_file").packages.filter((p) => !REPLACED_BY_PIER.has(p.name))
    : [];
  return { pins, needed: pins.map((p) => p.name).filter((name) => name !== "pip") };
}

/** Where environments are built, and where build progress goes. */
export interface EnvironmentContext {
  home: string;
  progress: (message: string) => void;
  /** Check only: report what a deployment would build instead of building it. */
  preflight?: boolean;
  /** Where a file of the model can be read (its blob in the store, or the folder); for the pickle scan. */
  artifactPath?: (relativePath: string) => string | undefined;
}

/** The interpreter in words: its path, Python and scikit-learn versions. */
export const describeInterpreter = (report: InterpreterReport) =>
  `python (${report.executable}, Python ${report.python}${report.packages["scikit-learn"] ? `, scikit-learn ${report.packages["scikit-learn"]}` : ""})`;

/** In a preflight, missing packages are a note when a build could fetch them, and an error when it could not. */
async function preflightBuild(
  onBase: { report: InterpreterReport; findings: Finding[] },
  requirements: Requirement[],
  triedLine: string,
): Promise<{ report: InterpreterReport; findings: Finding[] }> {
  const missing = onBase.findings.filter((f) => f.code === "PackageMissing");
  let source: string;
  try {
    source = await checkPackageSource();
  } catch (error) {
    throw unbuildable(onBase.findings, toPierError(error), triedLine);
  }
  return {
    report: onBase.report,
    findings: [
      ...onBase.findings.filter((f) => f.code !== "PackageMissing"),
      ...missing.map(
        (f): Finding => ({
          ...f,
          severity: "info",
          message: `${f.message}; deployment create will build an environment with the ${requirements.length} pins from ${source} before any instance starts`,
        }),
      ),
    ],
  };
}

/** What an environment build installs: the pins pip can act on, less what pier's host replaces. */
function installable(pins: Requirement[], needed: string[]): Requirement[] {
  return pins.filter(
    (p) =>
      !p.problem &&
      p.name !== "python" &&
      p.name !== "pip" &&
      !REPLACED_BY_PIER.has(p.name) &&
      // pier's host loads sklearn and pyfunc models itself; mlflow is installed only when a loader needs it.
      (!/^mlflow(-skinny)?$/.test(p.name) || needed.includes(p.name)),
  );
}

/**
 * Missing packages that no environment could be built with (no package source): the missing package
 * stays the cause, and why the build could not help is the evidence.
 */
function unbuildable(findings: Finding[], build: PierError, triedLine: string): PierError {
  const errors = findings.filter((f) => f.severity === "error");
  const first = errors[0]!;
  return new PierError({
    code: first.code,
    summary: `${first.message}; pier tried to build an environment with it and could not: ${build.summary}`,
    details: [...errors.slice(1).map((f) => `${f.code}: ${f.message}`), ...build.details, triedLine],
    fix: `${first.fix} Or let pier build it: ${build.fix}`,
    data: { findings: errors },
  });
}

/** The first error finding as a PierError, with the rest and what was tried as evidence. */
export function environmentError(errors: Finding[], evidence: string[]): PierError {
  return new PierError({
    code: errors[0]!.code,
    summary: errors[0]!.message,
    details: [...errors.slice(1).map((f) => `${f.code}: ${f.message}`), ...evidence],
    fix: errors[0]!.fix,
    data: { findings: errors },
  });
}

/** The base interpreter for a model's needs, and the environment request its pins make on it. */
async function planEnvironment(
  preferred: string | undefined,
  pins: Requirement[],
  needed: string[],
  home: string,
) {
  const distributions = distributionsToProbe(pins, needed);
  const modules = needed.map(importNameOf);
  const { report: base, tried } = await chooseInterpreter(
    interpreterCandidates(preferred),
    distributions,
    modules,
  );
  if (!base) {
    throw new PierError({
      code: "PythonNotFound",
      summary: `No Python interpreter could run (tried ${tried.map((t) => t.candidate).join(", ")})`,
      fix: "Install Python 3 (apt-get install python3), or set PIER_PYTHON to an interpreter's path.",
    });
  }
  return {
    base,
    distributions,
    modules,
    triedLine: `interpreters tried: ${tried.map((t) => `${t.candidate}${t.report ? ` (Python ${t.report.python})` : " (did not run)"}`).join(", ")}`,
    request: {
      home,
      basePython: base.executable,
      pythonVersion: base.python,
      requirements: installable(pins, needed),
    },
  };
}

/**
 * `pier env build`: builds (or finds) the environment a deployment of this model, or of a scoring
 * script with this conda file, would use, on the interpreter the deployment would choose.
 */
export async function buildEnvironmentFor(
  target: { model: ModelFacts } | { conda: string },
  preferred: string | undefined,
  context: EnvironmentContext,
): Promise<EnvironmentRecord> {
  const { pins, needed } = "model" in target ? mlflowNeeds(target.model) : scriptNeeds(target.conda);
  const { request } = await planEnvironment(preferred, pins, needed, context.home);
  if (request.requirements.length === 0)
    throw new PierError({
      code: "NothingToBuild",
      summary: "The model declares no packages pip could install (no requirements.txt or conda.yaml pins)",
      fix: "Add the model's pins (requirements.txt, or conda.yaml with a pip list), or give a --conda-file.",
    });
  const ready = readyEnvironment(request);
  if (ready) return ready;
  context.progress(
    `building on ${request.basePython} (Python ${request.pythonVersion}): ${request.requirements.map(pipLine).join(", ")}`,
  );
  return buildEnvironment({ ...request, onLine: context.progress });
}

/**
 * Chooses the interpreter for a model, before any process starts: a built environment for exactly
 * the model's pins if there is one; else an interpreter that already has what the model needs;
 * else it builds that environment (once, keyed by the pins) and uses it. Throws the first error
 * finding, or why the build failed.
 */
export async function checkedInterpreter(
  preferred: string | undefined,
  version: ModelFacts,
  pins: Requirement[],
  needed: string[],
  context: EnvironmentContext,
): Promise<{ report: InterpreterReport; findings: Finding[] }> {
  const { base, triedLine, distributions, modules, request } = await planEnvironment(
    preferred,
    pins,
    needed,
    context.home,
  );
  const check = (report: InterpreterReport) => {
    const findings = compareEnvironment(report, version.mlmodel, pins, needed);
    return { report, findings, errors: findings.filter((f) => f.severity === "error") };
  };
  const built = request.requirements.length > 0 ? readyEnvironment(request) : undefined;
  if (built) {
    const report = await probeInterpreter(built.python, distributions, modules);
    if (report) {
      const result = check(report);
      if (result.errors.length === 0) {
        context.progress(
          `environment ${built.hash} (built ${built.builtAt}) for these pins: ${built.python}`,
        );
        return result;
      }
    }
  }
  const onBase = check(base);
  if (onBase.errors.length === 0) return onBase;
  if (!onBase.errors.some((f) => f.code === "PackageMissing") || request.requirements.length === 0)
    throw environmentError(onBase.errors, [triedLine]);

  // Missing packages with pins to install: build the environment now, ahead of every instance.
  if (context.preflight) return preflightBuild(onBase, request.requirements, triedLine);
  context.progress(
    `building environment for ${request.requirements.length} pins on ${base.executable} (Python ${base.python}): ${request.requirements.map(pipLine).join(", ")}`,
  );
  let environment: EnvironmentRecord;
  try {
    environment = await buildEnvironment({
      ...request,
      onLine: (line) => {
        if (/^(Collecting|Successfully|Requirement already satisfied|ERROR)/.test(line))
          context.progress(`  ${line.slice(0, 160)}`);
      },
    });
  } catch (error) {
    const e = toPierError(error);
    if (e.code !== "IndexUnreachable") throw e;
    throw unbuildable(onBase.errors, e, triedLine);
  }
  context.progress(
    `environment ${environment.hash} ready in ${(environment.durationMs / 1000).toFixed(1)} s (log: ${join(context.home, "envs", environment.hash, "build.log")})`,
  );
  const report = await probeInterpreter(environment.python, distributions, modules);
  if (!report)
    throw new PierError({
      code: "EnvironmentBuildFailed",
      summary: `The built environment's interpreter ${environment.python} does not run`,
      fix: `Remove ${join(context.home, "envs", environment.hash)} and deploy again.`,
    });
  const result = check(report);
  if (result.errors.length > 0) throw environmentError(result.errors, [`environment ${environment.hash}`]);
  return result;
}
