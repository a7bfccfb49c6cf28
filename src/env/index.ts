export {
  buildEnvironment,
  type EnvironmentRecord,
  environmentDir,
  listEnvironments,
} from "./build.js";
export { checkDeclaredEnvironments, LAST_NUMPY_1 } from "./check.js";
export { type DeclaredEnvironment, parseCondaYamlText } from "./env-files.js";
export type { InterpreterReport } from "./interpreter.js";
export {
  isKnownPackage,
  type Known,
  pythonSatisfies,
  requiresPython,
  supportsNumpy2,
} from "./knowledge.js";
export { validateModelDir } from "./package.js";
export {
  ENV_FILES,
  type EnvironmentTarget,
  fileInFolder,
  folderFacts,
  type PreflightOptions,
  type PreflightResult,
  preflightEnvironment,
} from "./preflight.js";
export {
  normalizePackageName,
  parseCondaSpec,
  parsePipRequirement,
  parseRequirementsTxt,
  type Requirement,
} from "./requirements.js";
export { buildEnvironmentFor, type ModelFacts } from "./selection.js";
