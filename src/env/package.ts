/**
 * The whole static check of an MLflow model package, as registration and `pier model validate` run
 * it: the folder's structure (model/), the environment it declares and everything those files
 * include (check.ts), and what its pickle imports, read from the opcodes without running it (so that
 * no finding tells the user to drop a package the pickle needs). Nothing is installed or loaded.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { modelLoader, type ValidationResult, validateModelStructure } from "../model/index.js";
import { sortFindings } from "../shared/index.js";
import { applyFidelity, checkDeclaredEnvironments, modelEnvironments } from "./check.js";
import type { FileSource } from "./env-files.js";
import type { Fidelity } from "./interpreter.js";
import { importedModules, opcodeReaders, scanPickle } from "./pickle-scan.js";

/** Reads a folder's files by relative path; a path that leaves the folder is not the model's. */
export function folderSource(dir: string): FileSource {
  return (path) => {
    if (path.startsWith("..") || path.startsWith("/")) return undefined;
    const full = join(dir, path);
    return existsSync(full) ? readFileSync(full, "utf8") : undefined;
  };
}

/** The top-level modules the model's pickle imports, when it has one and a Python can read it. */
async function pickleImports(dir: string, result: ValidationResult): Promise<Set<string> | undefined> {
  if (!result.mlmodel) return undefined;
  let file: string | undefined;
  try {
    const loader = modelLoader({ name: "", version: 0, flavors: result.mlmodel.flavors, artifacts: [] });
    file = loader.kind === "sklearn" ? loader.modelFile : undefined;
  } catch {
    return undefined;
  }
  if (!file || !existsSync(join(dir, file))) return undefined;
  for (const python of opcodeReaders()) {
    const scan = await scanPickle(python, join(dir, file), false);
    if (scan) return importedModules(scan);
  }
  return undefined;
}

/** Validates `dir` as an MLflow model directory: structure, declared environment and pickle imports; never throws for a bad model. */
export async function validateModelDir(
  dir: string,
  fidelity: Fidelity = "default",
): Promise<ValidationResult> {
  const structure = validateModelStructure(dir);
  if (!structure.mlmodel) return structure;
  const { environments, findings } = modelEnvironments(structure.mlmodel, folderSource(dir));
  const imports = await pickleImports(dir, structure);
  return {
    ...structure,
    findings: sortFindings(
      applyFidelity(
        [
          ...structure.findings,
          ...findings,
          ...checkDeclaredEnvironments(environments, {
            mlmodel: structure.mlmodel,
            ...(imports ? { imports } : {}),
          }),
        ],
        fidelity,
      ),
    ),
  };
}
