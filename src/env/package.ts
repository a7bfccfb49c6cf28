/**
 * The whole static check of an MLflow model package, as registration and `pier model validate` run
 * it: the folder's structure (model/) and the environment it declares (check.ts). Nothing runs.
 */
import { type ValidationResult, validateModelStructure } from "../model/index.js";
import { sortFindings } from "../shared/index.js";
import { checkDeclaredEnvironments, modelEnvironments } from "./check.js";

/** Validates `dir` as an MLflow model directory: structure and declared environment; never throws for a bad model. */
export function validateModelDir(dir: string): ValidationResult {
  const structure = validateModelStructure(dir);
  if (!structure.mlmodel) return structure;
  const { environments, findings } = modelEnvironments(dir, structure.mlmodel);
  return {
    ...structure,
    findings: sortFindings([
      ...structure.findings,
      ...findings,
      ...checkDeclaredEnvironments(environments, { mlmodel: structure.mlmodel }),
    ]),
  };
}
