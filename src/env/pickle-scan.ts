/**
 * What a pickle would import, read from its opcodes by python/pickle_scan.py (none of the pickle's
 * code runs), and what that means where it would load: an import the interpreter cannot satisfy is a
 * version mismatch when the package is installed at another version (PickleVersionDrift,
 * NumpyAbiConflict), a missing package when a distribution provides the module
 * (PackageMissing), or the project's own code left out of the model package (ModuleNotShipped).
 */
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Finding, FixAction } from "../shared/index.js";
import { type InterpreterReport, installedState } from "./interpreter.js";
import { distributionOf, importNameOf } from "./knowledge.js";
import type { Requirement } from "./requirements.js";

const run = promisify(execFile);

const PICKLE_SCAN = fileURLToPath(new URL("../../../python/pickle_scan.py", import.meta.url));

/** Scans already made, by interpreter, file (path, size, time), check and installed state; the oldest go first. */
const scans = new Map<string, PickleScan>();
const MAX_SCANS = 256;

/** File names a model's pickles go by (sklearn, joblib, cloudpickle). */
export const PICKLE_FILE = /\.(pkl|pickle|joblib|sav)$/i;

export interface PickleImport {
  module: string;
  name: string;
  /**
   * With a check: whether the interpreter can import it ("unchecked" for a name guessed from bytes,
   * which is never imported).
   */
  status?: "ok" | "module-missing" | "attribute-missing" | "unchecked";
  /** Read by pickle's own machine (true), or guessed from a byte pattern past where it stopped (false). */
  certain?: boolean;
}

export interface PickleScan {
  imports: PickleImport[];
  /** With a check: the installed distribution (and version) providing each top-level module, or null. */
  packages?: Record<string, { distribution: string | null; version: string | null } | null>;
  /** Versions the pickle records of the libraries that wrote it (scikit-learn's _sklearn_version). */
  markers: Record<string, string[]>;
  /** False when the pickle could not be read to its end; byte patterns filled in (as guesses). */
  complete: boolean;
  /** How it was stored: pickle, or the compression it was read through. */
  format?: string;
}

/** Scans a pickle with `python`; with `check`, each import is also tried there. Undefined when the scan cannot run. */
export async function scanPickle(
  python: string,
  file: string,
  check: boolean,
): Promise<PickleScan | undefined> {
  // The same file read by the same interpreter reads the same; a check also depends on what is installed.
  const installed = check ? installedState(python) : "";
  let stamp: string;
  try {
    const { size, mtimeMs } = statSync(file);
    stamp = JSON.stringify([python, file, size, mtimeMs, check, installed ?? null]);
  } catch {
    return undefined;
  }
  // A check made before the interpreter was ever probed has no installed state to be kept by.
  const known = installed === undefined ? undefined : scans.get(stamp);
  if (known) return known;
  try {
    const { stdout } = await run(python, [PICKLE_SCAN, ...(check ? ["--check"] : []), file], {
      timeout: 60_000,
      maxBuffer: 16 * 2 ** 20,
    });
    const result = JSON.parse(stdout) as PickleScan & { error?: string };
    if (result.error) return undefined;
    if (scans.size >= MAX_SCANS) scans.delete(scans.keys().next().value!);
    scans.set(stamp, result);
    return result;
  } catch {
    return undefined;
  }
}

/**
 * Interpreters to read a pickle's opcodes with (any Python 3 can; nothing is imported): a named one,
 * then the system's, which start fastest (a version manager's shim on PATH may not).
 */
export const opcodeReaders = (): string[] =>
  [process.env.PIER_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => Boolean(p));

/** The top-level modules a pickle surely imports (names guessed from bytes are not among them). */
export const importedModules = (scan: PickleScan): Set<string> =>
  new Set(scan.imports.filter((i) => i.certain !== false).map((i) => i.module.split(".")[0]!));

/**
 * A note, never an error, when the scan could not read a pickle to its end: what it found past that
 * point is a guess from byte patterns, and whether the model loads is for its interpreter to say.
 */
export function pickleUncertainty(scan: PickleScan, file: string): Finding[] {
  if (scan.complete) return [];
  const guessed = scan.imports.filter((i) => i.certain === false).map((i) => `${i.module}.${i.name}`);
  return [
    {
      code: "PickleScanIncomplete",
      severity: "info",
      message: `${file} could not be read to its end without running it${guessed.length ? `; past that point, byte patterns suggest ${guessed.slice(0, 5).join(", ")}${guessed.length > 5 ? ", …" : ""}, which may be array data rather than imports` : ""}. pier does not block on a guess: whether it loads is for the interpreter to say at startup`,
      evidence: {
        file,
        value: `read ${scan.imports.filter((i) => i.certain !== false).length} import(s) for sure`,
      },
      fix: "Nothing to do if the deployment starts; if it fails, its startup names the exception (pier doctor shows it).",
      actions: [],
    },
  ];
}

/** Where a pickle is read, and what it is read against. */
export interface PickleContext {
  /** The pickle's path in the model folder, for evidence. */
  file: string;
  /** The command that builds the environment the pins describe (`pier env build --model DIR`). */
  buildCommand: string;
  /** Where a pin belongs: the model's requirements.txt, or a scoring script's conda file. */
  pinFile: string;
  interpreter: InterpreterReport;
  pins: readonly Requirement[];
  /** What the model's metadata says wrote it (MLmodel's flavors.sklearn.sklearn_version). */
  savedWith?: Record<string, string>;
  /** Whether a module ships with the model (a .py in the model folder or its code folder). */
  ships: (module: string) => boolean;
  /** MLmodel's python_function `code` folder (where code_paths were logged) and what the package has in it. */
  codeFolder?: { name: string; files: readonly string[] };
}

const major = (version: string) => Number(version.split(".")[0]);

/** The version a distribution was saved with: the model's metadata, the pickle's own marker, else the pin. */
function savedVersion(distribution: string, scan: PickleScan, context: PickleContext) {
  const fromMetadata = context.savedWith?.[distribution];
  if (fromMetadata) return { version: fromMetadata, source: "MLmodel" };
  const marker = scan.markers[distribution]?.[0];
  if (marker) return { version: marker, source: "the pickle's own version marker" };
  const pin = context.pins.find((p) => p.name === distribution && p.pinned);
  if (pin?.pinned) return { version: pin.pinned, source: `the pin in ${pin.file}` };
  return undefined;
}

/**
 * Findings for the imports the interpreter cannot satisfy, one per top-level package: errors, since
 * unpickling will fail. Every fix names the versions and a command that works.
 */
export function pickleFindings(scan: PickleScan, context: PickleContext): Finding[] {
  const { interpreter } = context;
  const failing = scan.imports.filter(
    (i) =>
      i.status &&
      i.status !== "ok" &&
      i.status !== "unchecked" &&
      i.certain !== false &&
      !context.ships(i.module),
  );
  const byTop = new Map<string, PickleImport[]>();
  for (const i of failing) {
    const top = i.module.split(".")[0]!;
    byTop.set(top, [...(byTop.get(top) ?? []), i]);
  }
  const command: FixAction = { kind: "command", command: context.buildCommand };
  return [...byTop].map(([top, imports]): Finding => {
    const first = imports[0]!;
    const what = `${first.module}.${first.name}`;
    const evidence = { file: context.file, value: imports.map((i) => `${i.module}.${i.name}`).join(", ") };
    const installed = scan.packages?.[top];
    const where = `${interpreter.executable} (Python ${interpreter.python})`;
    if (installed?.version) {
      const distribution = installed.distribution ?? top;
      const saved = savedVersion(distribution, scan, context);
      const pinned = context.pins.some((p) => p.name === distribution && p.pinned === saved?.version);
      const pin: FixAction[] =
        saved && !pinned
          ? [{ kind: "pin", file: context.pinFile, requirement: `${distribution}==${saved.version}` }]
          : [];
      if (top === "numpy" && first.module.startsWith("numpy._core") && major(installed.version) < 2) {
        return {
          code: "NumpyAbiConflict",
          severity: "error",
          message: `The pickle was written with numpy 2 (it imports ${what}); ${where} has numpy ${installed.version}, which has no numpy._core${saved ? ` (the model pins numpy ${saved.version})` : ""}`,
          evidence,
          fix: `Serve it with the model's own pins: ${saved ? `numpy==${saved.version} is pinned; ` : "pin the numpy 2 release it was saved with, then "}run \`${command.command}\` (from a package index or PIER_PIP_FIND_LINKS; deployment create builds it too), or save the model again with numpy<2.`,
          actions: [...pin, command],
          subject: {
            package: "numpy",
            ...(saved ? { version: saved.version } : {}),
            installed: installed.version,
          },
        };
      }
      return {
        code: "PickleVersionDrift",
        severity: "error",
        message: `The pickle imports ${what}, which ${distribution} ${installed.version} in ${where} does not have: it was written by ${distribution} ${saved ? `${saved.version} (${saved.source})` : "of another version"}, and unpickling it here fails`,
        evidence,
        fix: saved
          ? `Serve it with ${distribution} ${saved.version}: ${pinned ? `it is pinned; run` : `pin ${distribution}==${saved.version} in the model's requirements, then run`} \`${command.command}\` (from a package index or PIER_PIP_FIND_LINKS; deployment create builds it too), or retrain and save the model with ${distribution} ${installed.version}.`
          : `Pin the ${distribution} version the model was saved with and run \`${command.command}\`, or retrain and save it with ${distribution} ${installed.version}.`,
        actions: saved ? [...pin, command] : [],
        subject: {
          package: distribution,
          ...(saved ? { version: saved.version } : {}),
          installed: installed.version,
        },
      };
    }
    const pin = context.pins.find((p) => importNameOf(p.name) === top);
    if (pin) {
      return {
        code: "PackageMissing",
        severity: "error",
        message: `The pickle imports ${what}; ${pin.name} is pinned (${pin.raw.trim()} in ${pin.file}) but ${where} does not have it`,
        evidence,
        fix: `Build the environment the model pins: \`${command.command}\` (from a package index or PIER_PIP_FIND_LINKS; deployment create builds it too), or set PIER_PYTHON to an interpreter that has ${pin.raw.trim()}.`,
        actions: [command],
        subject: { package: pin.name, ...(pin.pinned ? { version: pin.pinned } : {}) },
      };
    }
    // The MLmodel says the project's code was logged under a folder the package lacks (or lacks it in):
    // that is where the module went missing, whatever package shares its name.
    const folder = context.codeFolder;
    if (folder && top !== "__main__")
      return {
        code: "ModuleNotShipped",
        severity: "error",
        message: `The pickle refers to ${what}; the MLmodel says the project's own code was logged under ${folder.name}/ (python_function code: ${folder.name}), and ${folder.files.length === 0 ? `the package has no ${folder.name}/ folder` : `${folder.name}/ holds ${folder.files.slice(0, 6).join(", ")} but not ${first.module}`}`,
        evidence,
        fix: `Copy the folder that holds ${top} into the model as ${folder.name}/ (or log the model again with code_paths=["<path to ${top}>"], which MLflow copies there), then register the folder again: it is the project's own code, not a package to install.`,
        actions: [],
        subject: { package: top },
      };
    const distribution = distributionOf(top);
    if (distribution) {
      return {
        code: "PackageMissing",
        severity: "error",
        message: `The pickle imports ${what}, from ${distribution}, which the model does not pin and ${where} does not have`,
        evidence,
        fix: `Pin ${distribution}==<the version the model was trained with> in the model's requirements, then run \`${command.command}\`.`,
        actions: [],
        subject: { package: distribution },
      };
    }
    return {
      code: "ModuleNotShipped",
      severity: "error",
      message:
        top === "__main__"
          ? `The pickle refers to ${first.name}, a class defined in the training script itself (__main__), which no other process can import`
          : `The pickle refers to ${what}: ${first.module} is neither installed in ${where} nor in the model package, so it is the project's own code, left out of the package`,
      evidence,
      fix:
        top === "__main__"
          ? `Move ${first.name} into a module of its own and log the model with code_paths=["that_module.py"] (MLflow copies it under code/ and records MLmodel's \`code\` key; pier puts it on sys.path for every flavor).`
          : `Log the model with code_paths=["${first.module.replaceAll(".", "/")}.py"] (or its package folder): MLflow copies it under code/ and records MLmodel's \`code\` key, which pier puts on sys.path for every flavor. If ${top} is a package from PyPI, pin it in the model's requirements instead.`,
      actions: [],
      subject: { package: top },
    };
  });
}

/**
 * Warnings for a pickle whose imports all resolve but whose own version marker names another
 * scikit-learn than the interpreter's: it may still fail to predict (as a 0.24 gradient-boosting
 * pickle does under 1.2), and predictions may differ.
 */
export function pickleMarkerFindings(scan: PickleScan, context: PickleContext): Finding[] {
  const written = scan.markers["scikit-learn"]?.[0];
  const installed = context.interpreter.packages["scikit-learn"];
  if (!written || !installed || context.savedWith?.["scikit-learn"]) return [];
  const [a, b] = [written, installed].map((v) => v.split(".").slice(0, 2).join("."));
  if (a === b) return [];
  return [
    {
      code: "PickleVersionDrift",
      severity: "warning",
      message: `${context.file} was pickled by scikit-learn ${written} (its own version marker); ${context.interpreter.executable} has scikit-learn ${installed}. Estimators may fail to unpickle or predict differently`,
      evidence: { file: context.file, value: `_sklearn_version ${written}` },
      fix: `Serve it with scikit-learn ${written}: pin scikit-learn==${written} in ${context.pinFile} and run \`${context.buildCommand}\`, or retrain and save the model with scikit-learn ${installed}.`,
      actions: [{ kind: "pin", file: context.pinFile, requirement: `scikit-learn==${written}` }],
      subject: { package: "scikit-learn", version: written, installed },
    },
  ];
}
