/**
 * The Python interpreters pier may run a model in, what each has installed, which one needs the
 * least, and how the chosen one differs from what the model pins. pier never installs packages
 * while an instance starts.
 */
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { promisify } from "node:util";
import { satisfies } from "@renovatebot/pep440";
import type { MlModel } from "../model/index.js";
import type { Finding } from "../shared/index.js";
import { importNameOf } from "./knowledge.js";
import { normalizePackageName, type Requirement } from "./requirements.js";

const run = promisify(execFile);

export interface InterpreterReport {
  executable: string;
  python: string;
  /** Installed version of each probed distribution, or null when it is not installed. */
  packages: Record<string, string | null>;
  /** Whether each probed import name can be imported (found on sys.path). */
  importable: Record<string, boolean>;
}

/**
 * How close the environment must be to what the cloud would build from the same files:
 * - cloud: every difference (a package version, the Python) is an error, so CI can gate a push on it;
 * - default: an environment the cloud could not build is an error, differences are warnings;
 * - local: run even an environment the cloud could not build (its errors become warnings).
 */
export type Fidelity = "cloud" | "default" | "local";

/** What a model (or a scoring script) needs from the Python that runs it. */
export interface EnvironmentNeeds {
  /** The pins a build installs (requirements.txt or conda's pip list; a scoring script's conda file). */
  pins: Requirement[];
  /** Distributions that must import for the model to load (the flavor's library, a loader module). */
  needed: string[];
  /** The Python the declared environment asks for (conda's python=…, python_env.yaml's python). */
  python?: Requirement;
  /** Where a pin belongs in a fix, and the command that builds the environment. */
  pinFile: string;
  buildCommand: string;
  /** Further modules to see whether each interpreter can import (a pickle's imports). */
  probeModules?: string[];
}

const PROBE = `
import importlib.util, importlib.metadata, json, platform, sys
dists, mods = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def version(d):
    try:
        return importlib.metadata.version(d)
    except Exception:
        return None
def importable(m):
    try:
        return importlib.util.find_spec(m) is not None
    except Exception:
        return False
print(json.dumps({"executable": sys.executable, "python": platform.python_version(),
  "packages": {d: version(d) for d in dists},
  "importable": {m: importable(m) for m in mods}, "path": sys.path}))
`;

/**
 * Reports already probed, by interpreter and question, with the modification times of the folders on
 * its sys.path when it answered: installing or removing a package adds or removes an entry in one of
 * them (its .dist-info, its module), which changes that folder's time, and the report is probed again.
 */
const probed = new Map<string, { report: InterpreterReport; stamps: [string, number][] }>();

function folderStamps(paths: readonly string[]): [string, number][] {
  return paths.map((path) => {
    try {
      return [path, statSync(path).mtimeMs];
    } catch {
      return [path, -1];
    }
  });
}

/** The sys.path folders each interpreter last reported, for installedState. */
const sysPaths = new Map<string, string[]>();

/**
 * What is installed in an interpreter, as a token that changes when a package is installed or removed
 * (the times of its sys.path folders, as its last probe listed them); undefined before a probe.
 */
export function installedState(python: string): string | undefined {
  const folders = sysPaths.get(python);
  return folders ? JSON.stringify([statStamp(python), folderStamps(folders)]) : undefined;
}

const stillTrue = (stamps: [string, number][]): boolean =>
  folderStamps(stamps.map(([path]) => path)).every(([, time], i) => time === stamps[i]![1]);

/** Runs the probe in one interpreter; undefined when it cannot run. */
export async function probeInterpreter(
  candidate: string,
  distributions: string[],
  modules: string[],
): Promise<InterpreterReport | undefined> {
  const key = JSON.stringify([candidate, statStamp(candidate), distributions, modules]);
  const known = probed.get(key);
  if (known && stillTrue(known.stamps)) return known.report;
  try {
    const { stdout } = await run(
      candidate,
      ["-c", PROBE, JSON.stringify(distributions), JSON.stringify(modules)],
      {
        timeout: 15_000,
      },
    );
    const { path, ...report } = JSON.parse(stdout) as InterpreterReport & { path?: string[] };
    const folders = (path ?? []).filter((p) => p !== "" && !p.endsWith(".zip"));
    probed.set(key, { report, stamps: folderStamps(folders) });
    sysPaths.set(candidate, folders);
    if (report.executable) sysPaths.set(report.executable, folders);
    return report;
  } catch {
    return undefined;
  }
}

/** The interpreter file's own time: a replaced executable (a rebuilt venv) is another interpreter. */
function statStamp(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

const majorMinor = (v: string) => v.split(".").slice(0, 2).join(".");

/** The X.Y a Python requirement names ("==3.8.*" or "3.11.12"), if it names one. */
export function pythonOf(requirement: Requirement | undefined): string | undefined {
  const text = requirement?.pinned ?? requirement?.specifier.replace(/^==/, "").replace(".*", "");
  return text && /^\d+\.\d+/.test(text) ? majorMinor(text) : undefined;
}

/** Interpreters pier may use: the ones named (PIER_PYTHON), then python3 on PATH, the system's, and the declared Python's. */
export function interpreterCandidates(named: (string | undefined)[], declaredPython?: string): string[] {
  return [
    ...new Set(
      [
        ...named,
        "python3",
        "/usr/bin/python3",
        ...(declaredPython ? [`python${declaredPython}`] : []),
      ].filter((c): c is string => Boolean(c)),
    ),
  ];
}

/** Distribution names to probe: the pins, what loading needs, and the frameworks pickles carry. */
export function distributionsToProbe(needs: EnvironmentNeeds): string[] {
  return [
    ...new Set([
      ...needs.pins.filter((p) => !p.direct).map((p) => normalizePackageName(p.name)),
      ...needs.needed,
      "numpy",
      "pandas",
      "scikit-learn",
      "cloudpickle",
    ]),
  ];
}

/** Whether the interpreter has a pin's package at a version the pin allows. */
export function satisfiesPin(report: InterpreterReport, pin: Requirement): boolean {
  const installed = report.packages[pin.name];
  if (!installed) return false;
  if (pin.pinned) return installed === pin.pinned;
  try {
    return pin.specifier === "" || satisfies(installed, pin.specifier);
  } catch {
    return false;
  }
}

/** Packages pier itself replaces (the Azure inference server and its helpers): not needed locally. */
export const REPLACED_BY_PIER = new Set([
  "azureml-inference-server-http",
  "azureml-defaults",
  "azureml-ai-monitoring",
  "azureml-contrib-services",
  "inference-schema",
  "gunicorn",
  "flask",
]);

/**
 * Whether a pin asks something of the environment: not the build tools, not what pier's host replaces,
 * not mlflow unless a loader needs it (pier's host loads sklearn and pyfunc models itself), not a
 * local path (which must ship beside the model).
 */
export function pinCounts(p: Requirement, needed: readonly string[]): boolean {
  return (
    !p.problem &&
    p.direct?.kind !== "path" &&
    !["python", "pip", "setuptools", "wheel"].includes(p.name) &&
    !REPLACED_BY_PIER.has(p.name) &&
    (!/^mlflow(-skinny)?$/.test(p.name) || needed.includes(p.name))
  );
}

/** How well an interpreter fits: what loading needs first, then pins met, then packages present, then the Python. */
function fit(report: InterpreterReport, needs: EnvironmentNeeds): number[] {
  const pins = needs.pins.filter((p) => pinCounts(p, needs.needed) && !p.direct);
  const declared = pythonOf(needs.python);
  return [
    needs.needed.filter((d) => report.importable[importNameOf(d)]).length,
    pins.filter((p) => satisfiesPin(report, p)).length,
    pins.filter((p) => report.packages[p.name]).length,
    declared && majorMinor(report.python) === declared ? 1 : 0,
  ];
}

export interface InterpreterChoice {
  report?: InterpreterReport;
  /** Every candidate and what it could do, for evidence. */
  tried: { candidate: string; report?: InterpreterReport }[];
  /** The choice in words: which interpreter, why, and what it still lacks. */
  reason: string;
}

/**
 * The interpreter to run the model in: a named one (PIER_PYTHON) when it can import what loading
 * needs; otherwise the one that needs the least (most of what loading needs, then most pins met).
 * Candidates are probed at once.
 */
export async function chooseInterpreter(
  named: (string | undefined)[],
  needs: EnvironmentNeeds,
): Promise<InterpreterChoice> {
  const distributions = distributionsToProbe(needs);
  const modules = [...new Set([...needs.needed.map(importNameOf), ...(needs.probeModules ?? [])])];
  const loadable = needs.needed.map(importNameOf);
  const probe = (candidates: string[]) =>
    Promise.all(
      candidates.map(async (candidate) => {
        const report = await probeInterpreter(candidate, distributions, modules);
        return { candidate, ...(report ? { report } : {}) };
      }),
    );
  // An interpreter the user named that loads the model is the choice: the others need not be probed.
  const namedOnes = [...new Set(named.filter((n): n is string => Boolean(n)))];
  const first = await probe(namedOnes);
  const tried = first.some((t) => t.report && loadable.every((m) => t.report!.importable[m]))
    ? first
    : [
        ...first,
        ...(await probe(
          interpreterCandidates([], pythonOf(needs.python)).filter((c) => !namedOnes.includes(c)),
        )),
      ];
  const runs = tried.filter(
    (t): t is { candidate: string; report: InterpreterReport } => t.report !== undefined,
  );
  // The same interpreter may answer under two names (python3 and /usr/bin/python3): keep the first.
  const distinct = runs.filter(
    (t, i) => runs.findIndex((u) => u.report.executable === t.report.executable) === i,
  );
  const explicit = distinct.find(
    (t) => named.includes(t.candidate) && loadable.every((m) => t.report.importable[m]),
  );
  let best = explicit;
  if (!best) {
    for (const t of distinct) {
      if (!best) best = t;
      else {
        const [a, b] = [fit(t.report, needs), fit(best.report, needs)];
        const k = a.findIndex((x, i) => x !== b[i]);
        if (k >= 0 && a[k]! > b[k]!) best = t;
      }
    }
  }
  if (!best) return { tried, reason: "no interpreter runs" };
  const report = best.report;
  const pins = needs.pins.filter((p) => pinCounts(p, needs.needed) && !p.direct);
  const lacking = pins.filter((p) => !satisfiesPin(report, p));
  const describe = (p: Requirement) =>
    report.packages[p.name] ? `${p.raw.trim()} (has ${report.packages[p.name]})` : p.raw.trim();
  const reason = `${explicit ? "named by PIER_PYTHON" : distinct.length > 1 ? `needs the least of ${distinct.length} interpreters` : "the only interpreter"}: ${pins.length - lacking.length} of ${pins.length} pins met${lacking.length ? `; lacks ${lacking.map(describe).join(", ")}` : ""}`;
  return { report, tried, reason };
}

/**
 * Compares an interpreter with what the model needs: a package loading needs and the interpreter lacks
 * is an error; pins it meets at other versions, and another Python, are warnings (errors when the
 * fidelity is cloud).
 */
export function compareEnvironment(
  report: InterpreterReport,
  needs: EnvironmentNeeds,
  mlmodel: MlModel | undefined,
  fidelity: Fidelity,
): Finding[] {
  const findings: Finding[] = [];
  const where = `${report.executable} (Python ${report.python})`;
  const difference = fidelity === "cloud" ? "error" : "warning";
  for (const dist of needs.needed) {
    const module = importNameOf(dist);
    if (report.importable[module]) continue;
    const pin = needs.pins.find((p) => p.name === dist);
    findings.push({
      code: "PackageMissing",
      severity: "error",
      message: `${pin ? `${pin.raw.trim()} (${pin.file})` : dist} is not installed in ${where}, and the model cannot load without it`,
      evidence: pin
        ? { file: pin.file, line: pin.line, value: pin.raw.trim() }
        : { file: "MLmodel", key: "flavors", value: `import ${module}` },
      fix: pin
        ? `Build the environment the pins describe: \`${needs.buildCommand}\` (from a package index or PIER_PIP_FIND_LINKS; deployment create builds it too), or set PIER_PYTHON to an interpreter that has ${pin.raw.trim()}.`
        : `Pin ${dist}==<version> in ${needs.pinFile} and run \`${needs.buildCommand}\`, or set PIER_PYTHON to an interpreter that has ${dist}.`,
      actions: pin ? [{ kind: "command", command: needs.buildCommand }] : [],
      subject: { package: dist, ...(pin?.pinned ? { version: pin.pinned } : {}) },
    });
  }
  const sklearnSaved = mlmodel?.flavors.sklearn?.sklearn_version;
  const sklearnHere = report.packages["scikit-learn"];
  if (sklearnSaved && sklearnHere && majorMinor(String(sklearnSaved)) !== majorMinor(sklearnHere)) {
    findings.push({
      code: "PickleVersionDrift",
      severity: difference,
      message: `The pickle was made by scikit-learn ${sklearnSaved}; ${report.executable} has scikit-learn ${sklearnHere}. Estimators may fail to unpickle or predict differently`,
      evidence: { file: "MLmodel", key: "flavors.sklearn.sklearn_version", value: String(sklearnSaved) },
      fix: `Serve it with scikit-learn ${sklearnSaved}: pin scikit-learn==${sklearnSaved} in ${needs.pinFile} and run \`${needs.buildCommand}\` (deployments with those pins then use that environment); or retrain and log it with scikit-learn ${sklearnHere}.`,
      actions: [
        { kind: "pin", file: needs.pinFile, requirement: `scikit-learn==${sklearnSaved}` },
        { kind: "command", command: needs.buildCommand },
      ],
      subject: { package: "scikit-learn", version: String(sklearnSaved), installed: sklearnHere },
    });
  }
  const savedPython = mlmodel?.flavors.python_function?.python_version;
  const declared = pythonOf(needs.python);
  if (declared && declared !== majorMinor(report.python)) {
    findings.push({
      code: "PythonVersionMismatch",
      severity: difference,
      message: `${needs.python!.file} pins Python ${declared}; ${report.executable} is Python ${report.python}${savedPython ? ` (the model was saved with Python ${savedPython})` : ""}`,
      evidence: { file: needs.python!.file, line: needs.python!.line, value: needs.python!.raw.trim() },
      fix: `Serve it with Python ${declared}: install it and set PIER_PYTHON to it (pier also tries python${declared} on PATH), or pin the Python you run in ${needs.python!.file}.`,
      subject: { package: "python", version: declared, installed: report.python },
    });
  } else if (savedPython && majorMinor(String(savedPython)) !== majorMinor(report.python)) {
    findings.push({
      code: "PythonVersionMismatch",
      severity: difference,
      message: `The model was saved with Python ${savedPython}; ${report.executable} is Python ${report.python}`,
      evidence: {
        file: "MLmodel",
        key: "flavors.python_function.python_version",
        value: String(savedPython),
      },
      fix: `Serve it with Python ${majorMinor(String(savedPython))} (PIER_PYTHON=…) if loading fails.`,
      subject: { package: "python", version: String(savedPython), installed: report.python },
    });
  }
  // Every pin the interpreter does not meet, frameworks included; a package loading needs is reported above.
  const unmet = needs.pins.filter(
    (p) =>
      pinCounts(p, needs.needed) &&
      !p.direct &&
      !(needs.needed.includes(p.name) && !report.importable[importNameOf(p.name)]) &&
      !(p.name === "scikit-learn" && sklearnSaved) &&
      !satisfiesPin(report, p),
  );
  if (unmet.length > 0) {
    findings.push({
      code: "InstalledVersionsDiffer",
      severity: difference,
      message: `${report.executable} does not have what the pins ask for: ${unmet.map((p) => `${p.raw.trim()} (${report.packages[p.name] ? `has ${report.packages[p.name]}` : "not installed"})`).join(", ")}`,
      evidence: {
        file: unmet[0]!.file,
        line: unmet[0]!.line,
        value: unmet.map((p) => p.raw.trim()).join(", "),
      },
      fix: `Build the environment the pins describe: \`${needs.buildCommand}\`, so that local predictions come from the versions the cloud would install.`,
      actions: [{ kind: "command", command: needs.buildCommand }],
    });
  }
  return findings;
}
