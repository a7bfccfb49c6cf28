/**
 * Choosing a Python interpreter for a model and comparing what it has installed with what the model
 * pins, before any process starts. pier never installs packages while an instance starts.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { MlModel } from "../model/index.js";
import type { Finding } from "../shared/index.js";
import { parseCondaYamlText } from "./env-files.js";
import { normalizePackageName, parseRequirementsTxt, type Requirement } from "./requirements.js";

const run = promisify(execFile);

/** Import name of each distribution the flavors need (scikit-learn → sklearn). */
const IMPORT_NAMES: Record<string, string> = {
  "scikit-learn": "sklearn",
  lightgbm: "lightgbm",
  xgboost: "xgboost",
  mlflow: "mlflow",
};

export interface InterpreterReport {
  executable: string;
  python: string;
  /** Installed version of each probed distribution, or null when it is not installed. */
  packages: Record<string, string | null>;
  /** Whether each probed import name can be imported (found on sys.path). */
  importable: Record<string, boolean>;
}

const PROBE = `
import importlib.util, importlib.metadata, json, platform, sys
dists, mods = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def version(d):
    try:
        return importlib.metadata.version(d)
    except Exception:
        return None
print(json.dumps({"executable": sys.executable, "python": platform.python_version(),
  "packages": {d: version(d) for d in dists},
  "importable": {m: importlib.util.find_spec(m) is not None for m in mods}}))
`;

/** Runs the probe in one interpreter; undefined when it cannot run. */
export async function probeInterpreter(
  candidate: string,
  distributions: string[],
  modules: string[],
): Promise<InterpreterReport | undefined> {
  try {
    const { stdout } = await run(
      candidate,
      ["-c", PROBE, JSON.stringify(distributions), JSON.stringify(modules)],
      { timeout: 15_000 },
    );
    return JSON.parse(stdout) as InterpreterReport;
  } catch {
    return undefined;
  }
}

/** PIER_PYTHON first, then the python3 on PATH, then the system's. */
export function interpreterCandidates(preferred?: string): string[] {
  return [
    ...new Set(
      [preferred, process.env.PIER_PYTHON, "python3", "/usr/bin/python3"].filter((c): c is string =>
        Boolean(c),
      ),
    ),
  ];
}

/** The model's pinned requirements from its recorded env files (requirements.txt, else conda.yaml's pip list). */
export function modelPins(envFiles: Record<string, string>): Requirement[] {
  if (envFiles["requirements.txt"] !== undefined)
    return parseRequirementsTxt(envFiles["requirements.txt"], "requirements.txt").requirements;
  if (envFiles["conda.yaml"] !== undefined)
    return parseCondaYamlText(envFiles["conda.yaml"], "conda.yaml").packages;
  return [];
}

/** The first candidate that can import every module the model needs, or the first that runs at all. */
export async function chooseInterpreter(
  candidates: string[],
  distributions: string[],
  modules: string[],
): Promise<{ report?: InterpreterReport; tried: { candidate: string; report?: InterpreterReport }[] }> {
  const tried: { candidate: string; report?: InterpreterReport }[] = [];
  for (const candidate of candidates) {
    const report = await probeInterpreter(candidate, distributions, modules);
    tried.push({ candidate, ...(report ? { report } : {}) });
    if (report && modules.every((m) => report.importable[m])) return { report, tried };
  }
  const first = tried.find((t) => t.report)?.report;
  return { ...(first ? { report: first } : {}), tried };
}

const majorMinor = (v: string) => v.split(".").slice(0, 2).join(".");

/** Compares an interpreter with the model: missing packages are errors, version drift warnings. */
export function compareEnvironment(
  report: InterpreterReport,
  mlmodel: MlModel,
  pins: Requirement[],
  needed: string[],
): Finding[] {
  const findings: Finding[] = [];
  for (const dist of needed) {
    const module = importNameOf(dist);
    if (!report.importable[module]) {
      const pinned = pins.find((p) => p.name === dist)?.pinned;
      findings.push({
        code: "PackageMissing",
        severity: "error",
        message: `${dist} is not installed in ${report.executable} (Python ${report.python}), and the model cannot load without it`,
        evidence: { file: "MLmodel", key: "flavors", value: `import ${module}` },
        fix: `Install ${dist} into that interpreter (e.g. apt-get install python3-${module} or pip install ${dist}${pinned ? `==${pinned}` : ""}), or set PIER_PYTHON to an interpreter that has it.`,
        subject: { package: dist, ...(pinned ? { version: pinned } : {}) },
      });
    }
  }
  const sklearnSaved = mlmodel.flavors.sklearn?.sklearn_version;
  const sklearnHere = report.packages["scikit-learn"];
  if (sklearnSaved && sklearnHere && majorMinor(String(sklearnSaved)) !== majorMinor(sklearnHere)) {
    findings.push({
      code: "PickleVersionDrift",
      severity: "warning",
      message: `The pickle was made by scikit-learn ${sklearnSaved}; ${report.executable} has scikit-learn ${sklearnHere}. Estimators may fail to unpickle or predict differently`,
      evidence: { file: "MLmodel", key: "flavors.sklearn.sklearn_version", value: String(sklearnSaved) },
      fix: `Serve it with scikit-learn ${majorMinor(String(sklearnSaved))}.x: pin it in the model's requirements and run \`pier env build --model …\` (deployments with those pins then use that environment), or set PIER_PYTHON to an interpreter that has it; or retrain and log it with scikit-learn ${sklearnHere}.`,
      actions: [{ kind: "pin", file: "requirements.txt", requirement: `scikit-learn==${sklearnSaved}` }],
      subject: { package: "scikit-learn", version: String(sklearnSaved), installed: sklearnHere },
    });
  }
  const savedPython = mlmodel.flavors.python_function?.python_version;
  if (savedPython && majorMinor(String(savedPython)) !== majorMinor(report.python)) {
    findings.push({
      code: "PythonVersionMismatch",
      severity: "warning",
      message: `The model was saved with Python ${savedPython}; ${report.executable} is Python ${report.python}`,
      evidence: {
        file: "MLmodel",
        key: "flavors.python_function.python_version",
        value: String(savedPython),
      },
      fix: `Serve it with Python ${majorMinor(String(savedPython))} (PIER_PYTHON=…) if loading fails.`,
    });
  }
  const drift = pins.filter(
    (p) =>
      p.pinned &&
      p.name in report.packages &&
      report.packages[p.name] &&
      report.packages[p.name] !== p.pinned &&
      p.name !== "scikit-learn",
  );
  if (drift.length > 0) {
    findings.push({
      code: "InstalledVersionsDiffer",
      severity: "warning",
      message: `Installed versions differ from the pins: ${drift.map((p) => `${p.name} ${report.packages[p.name]} (pinned ${p.pinned})`).join(", ")}`,
      evidence: { file: drift[0]!.file, line: drift[0]!.line, value: drift.map((p) => p.raw).join(", ") },
      fix: "Use an interpreter with the pinned versions if predictions differ.",
    });
  }
  return findings;
}

/** Distribution names to probe for a model: its pins plus what its flavor needs. */
export function distributionsToProbe(pins: Requirement[], needed: string[]): string[] {
  return [
    ...new Set([
      ...pins.map((p) => normalizePackageName(p.name)),
      ...needed,
      "numpy",
      "pandas",
      "scikit-learn",
      "cloudpickle",
    ]),
  ];
}

export function importNameOf(distribution: string): string {
  return IMPORT_NAMES[distribution] ?? distribution.replaceAll("-", "_");
}
