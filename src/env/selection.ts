/**
 * Which Python environment runs a model, chosen before any process starts: a built environment for
 * exactly its pins when one is ready and loads the model; else the interpreter that needs the least,
 * when it loads the model; else an environment built now from the pins (once per set of pins), when
 * what stops the interpreter is something pins can fix: a package missing, or installed at a version
 * that cannot load what the model was saved with. In a check (the doctor's preflight) nothing is
 * built: what a build would do is said.
 */
import { join } from "node:path";
import type { LoadableModel, MlModel } from "../model/index.js";
import { type Code, type Finding, PierError, toPierError } from "../shared/index.js";
import {
  buildEnvironment,
  checkPackageSource,
  type EnvironmentRecord,
  pipLine,
  readyEnvironment,
} from "./build.js";
import {
  chooseInterpreter,
  distributionsToProbe,
  type EnvironmentNeeds,
  type InterpreterReport,
  pinCounts,
  probeInterpreter,
} from "./interpreter.js";
import { importNameOf } from "./knowledge.js";
import type { Requirement } from "./requirements.js";

/** What the environment checks need to know about a model: a registered version, or a folder read in place. */
export interface ModelFacts extends LoadableModel {
  mlmodel: MlModel;
  /** The text of each env file the model carries (conda.yaml, requirements.txt, …). */
  envFiles: Record<string, string>;
  artifacts: readonly { path: string; size: number }[];
}

/** How a line of progress reads: done, a warning, a failure, or a step on the way. */
export type ProgressStatus = "ok" | "warning" | "error" | "info";

/** Where environments are built, and where build progress goes. */
export interface EnvironmentContext {
  home: string;
  /** A line of progress: "info" for steps on the way, "error" for a failure (default ok). */
  progress: (message: string, status?: ProgressStatus) => void;
  /** Check only: report what a deployment would build instead of building it. */
  preflight?: boolean;
  /** Interpreters named by the user (a deployment's PIER_PYTHON, then pier's). */
  named: (string | undefined)[];
}

/** The interpreter in words: its path, Python and scikit-learn versions. */
export const describeInterpreter = (report: InterpreterReport) =>
  `python (${report.executable}, Python ${report.python}${report.packages["scikit-learn"] ? `, scikit-learn ${report.packages["scikit-learn"]}` : ""})`;

/** Errors that an environment built from the pins can remove. */
const BUILDABLE: ReadonlySet<Code> = new Set([
  "PackageMissing",
  "PickleVersionDrift",
  "NumpyAbiConflict",
  "InstalledVersionsDiffer",
]);

/** What an environment build installs: the pins that ask something of the environment. */
const installable = (pins: readonly Requirement[], needed: readonly string[]) =>
  pins.filter((p) => pinCounts(p, needed));

/**
 * The first error finding as a PierError, with the rest and what was tried as evidence; the check's
 * other findings (warnings, notes) travel with it, so that a failed check still says everything.
 */
export function environmentError(findings: Finding[], evidence: string[], code?: Code): PierError {
  const errors = findings.filter((f) => f.severity === "error");
  const others = findings.filter((f) => f.severity !== "error");
  return new PierError({
    code: code ?? errors[0]!.code,
    summary: errors[0]!.message,
    details: [...errors.slice(1).map((f) => `${f.code}: ${f.message}`), ...evidence],
    fix: errors[0]!.fix,
    data: { findings: errors, ...(others.length > 0 ? { warnings: others } : {}) },
  });
}

/**
 * Errors an environment could not be built for (no package source): they stay the cause, and why the
 * build could not help is the evidence.
 */
function unbuildable(findings: Finding[], build: PierError, triedLine: string): PierError {
  const errors = findings.filter((f) => f.severity === "error");
  const others = findings.filter((f) => f.severity !== "error");
  const first = errors[0]!;
  return new PierError({
    code: first.code,
    summary: `${first.message}; pier could not build an environment with the model's pins: ${build.summary}`,
    details: [...errors.slice(1).map((f) => `${f.code}: ${f.message}`), ...build.details, triedLine],
    fix: `${first.fix} To let pier build it: ${build.fix}`,
    data: { findings: errors, ...(others.length > 0 ? { warnings: others } : {}) },
  });
}

/** The interpreter a deployment would choose, and the environment build its pins would ask of it. */
async function planEnvironment(needs: EnvironmentNeeds, context: EnvironmentContext) {
  const chosen = await chooseInterpreter(context.named, needs);
  const base = chosen.report;
  if (!base)
    throw new PierError({
      code: "PythonNotFound",
      summary: `No Python interpreter could run (tried ${chosen.tried.map((t) => t.candidate).join(", ")})`,
      fix: "Install Python 3 (apt-get install python3), or set PIER_PYTHON to an interpreter's path.",
    });
  return {
    chosen,
    base,
    request: {
      home: context.home,
      basePython: base.executable,
      pythonVersion: base.python,
      requirements: installable(needs.pins, needs.needed),
    },
    triedLine: `interpreters tried: ${chosen.tried.map((t) => `${t.candidate}${t.report ? ` (Python ${t.report.python})` : " (did not run)"}`).join(", ")}; chosen: ${base.executable} (${chosen.reason})`,
  };
}

export interface EnvironmentChoice {
  report: InterpreterReport;
  findings: Finding[];
}

/** Checks an interpreter against the model: what comparing with the pins finds, and what its pickles import. */
export type EnvironmentCheck = (report: InterpreterReport) => Promise<Finding[]>;

/**
 * Chooses (and in build mode builds) the environment for a model; throws the first error that no
 * environment pier may use or build can remove.
 */
export async function selectEnvironment(
  needs: EnvironmentNeeds,
  check: EnvironmentCheck,
  context: EnvironmentContext,
): Promise<EnvironmentChoice> {
  const { chosen, base, request, triedLine } = await planEnvironment(needs, context);
  const distributions = distributionsToProbe(needs);
  const modules = [...new Set([...needs.needed.map(importNameOf), ...(needs.probeModules ?? [])])];
  const checked = async (report: InterpreterReport) => {
    const findings = await check(report);
    return { report, findings, errors: findings.filter((f) => f.severity === "error") };
  };

  const built = request.requirements.length > 0 ? readyEnvironment(request) : undefined;
  if (built) {
    const report = await probeInterpreter(built.python, distributions, modules);
    const result = report ? await checked(report) : undefined;
    if (result && result.errors.length === 0) {
      context.progress(
        `reusing environment ${built.hash} (built ${built.builtAt}) for these pins: ${built.python}`,
      );
      return result;
    }
  }
  const onBase = await checked(base);
  if (onBase.errors.length === 0) {
    context.progress(`using ${describeInterpreter(base)}: ${chosen.reason}`);
    return onBase;
  }
  const buildable = onBase.errors.every((f) => BUILDABLE.has(f.code)) && request.requirements.length > 0;
  if (!buildable) throw environmentError(onBase.findings, [triedLine]);

  const why = `${base.executable} cannot load the model (${onBase.errors.map((f) => f.code).join(", ")}: ${onBase.errors[0]!.message})`;
  if (context.preflight) {
    let source: string;
    try {
      source = await checkPackageSource();
    } catch (error) {
      throw unbuildable(onBase.findings, toPierError(error), triedLine);
    }
    // What the build would fix is a note, not the cause; whether the build succeeds is known when it runs.
    return {
      report: base,
      findings: [
        ...onBase.findings.filter((f) => f.severity !== "error"),
        ...onBase.errors.map(
          (f): Finding => ({
            ...f,
            severity: "info",
            message: `${f.message}; deployment create will build an environment with the ${request.requirements.length} pins from ${source} before any instance starts`,
          }),
        ),
      ],
    };
  }
  context.progress(
    `building an environment for ${request.requirements.length} pins on ${base.executable} (Python ${base.python}) because ${why}: ${request.requirements.map(pipLine).join(", ")}`,
    "info",
  );
  let environment: EnvironmentRecord;
  try {
    environment = await buildEnvironment({
      ...request,
      onLine: (line) => {
        if (/^(Collecting|Successfully|Requirement already satisfied|ERROR)/.test(line))
          context.progress(`  ${line.slice(0, 160)}`, /^ERROR/.test(line) ? "error" : "info");
      },
    });
  } catch (error) {
    const e = toPierError(error);
    context.progress(`could not build the environment: ${e.code}: ${e.summary}`, "error");
    if (e.code !== "IndexUnreachable") throw e;
    throw unbuildable(onBase.findings, e, triedLine);
  }
  context.progress(
    `built environment ${environment.hash} in ${(environment.durationMs / 1000).toFixed(1)} s (log: ${join(context.home, "envs", environment.hash, "build.log")})`,
  );
  const report = await probeInterpreter(environment.python, distributions, modules);
  if (!report)
    throw new PierError({
      code: "EnvironmentBuildFailed",
      summary: `The built environment's interpreter ${environment.python} does not run`,
      fix: `Remove ${join(context.home, "envs", environment.hash)} and deploy again.`,
    });
  const result = await checked(report);
  if (result.errors.length > 0)
    throw environmentError(result.findings, [`in environment ${environment.hash}`]);
  return result;
}

/** Builds (or finds) the environment these needs describe, on the interpreter a deployment would choose. */
export async function buildEnvironmentWith(
  needs: EnvironmentNeeds,
  context: EnvironmentContext,
): Promise<EnvironmentRecord> {
  const { request } = await planEnvironment(needs, context);
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
