/**
 * What a pickle would import, read from its opcodes by python/pickle_scan.py (none of the pickle's
 * code runs), and checked in the interpreter that would load it.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { MlModel } from "../model/index.js";
import type { Finding } from "../shared/index.js";
import type { InterpreterReport } from "./interpreter.js";

const run = promisify(execFile);

const PICKLE_SCAN = fileURLToPath(new URL("../../../python/pickle_scan.py", import.meta.url));

export interface PickleImport {
  module: string;
  name: string;
  status: "ok" | "module-missing" | "attribute-missing";
}

/** What a pickle would import, read from its opcodes (none of its code runs), checked in `python`. */
export async function scanPickle(python: string, file: string): Promise<PickleImport[] | undefined> {
  try {
    const { stdout } = await run(python, [PICKLE_SCAN, file], { timeout: 60_000 });
    return (JSON.parse(stdout) as { imports?: PickleImport[] }).imports;
  } catch {
    return undefined;
  }
}

/**
 * Imports of the pickle the interpreter cannot satisfy: an error, since unpickling will fail. When the
 * pickle came from another scikit-learn (a module it names was moved or removed since), that is the
 * cause: PickleVersionDrift; otherwise the package is missing.
 */
export function pickleFindings(
  imports: PickleImport[],
  report: InterpreterReport,
  mlmodel: MlModel,
  file: string,
): Finding[] {
  const saved = mlmodel.flavors.sklearn?.sklearn_version;
  const here = report.packages["scikit-learn"];
  return imports
    .filter((i) => i.status !== "ok")
    .map((i): Finding => {
      const top = i.module.split(".")[0]!;
      const what = i.status === "module-missing" ? `module ${i.module}` : `${i.module}.${i.name}`;
      if (top === "sklearn" && here && (!saved || String(saved) !== here)) {
        return {
          code: "PickleVersionDrift",
          severity: "error",
          message: `The pickle imports ${i.module}.${i.name}, but scikit-learn ${here} in ${report.executable} has no ${what}: the pickle was made by scikit-learn ${saved ?? "of another version"}, and unpickling it here fails (ModuleNotFoundError/AttributeError)`,
          evidence: { file, value: `${i.module}.${i.name}` },
          fix: `Serve it with scikit-learn ${saved ?? "<the version that made it>"}: pin scikit-learn==${saved ?? "…"} in the model's requirements and run \`pier env build --model …\` (with a package index or PIER_PIP_FIND_LINKS), or retrain and log the model with scikit-learn ${here}.`,
          actions: saved
            ? [{ kind: "pin", file: "requirements.txt", requirement: `scikit-learn==${saved}` }]
            : [],
          subject: { package: "scikit-learn", ...(saved ? { version: String(saved) } : {}), installed: here },
        };
      }
      return {
        code: "PackageMissing",
        severity: "error",
        message: `The pickle imports ${i.module}.${i.name}, and ${report.executable} has no ${what}`,
        evidence: { file, value: `${i.module}.${i.name}` },
        fix: `Add the package that provides ${top} to the model's requirements (pier builds the environment before instances start), or set PIER_PYTHON to an interpreter that has it.`,
        subject: { package: top },
      };
    });
}
