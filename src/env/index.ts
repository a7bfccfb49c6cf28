export {
  buildEnvironment,
  type EnvironmentRecord,
  environmentDir,
  listEnvironments,
} from "./build.js";
export { onlyUnresolvable } from "./check.js";
export type { Fidelity } from "./interpreter.js";
export {
  distributionOf,
  type Known,
  pythonSatisfies,
  requiresPython,
  supportsNumpy2,
} from "./knowledge.js";
export { validateModelDir } from "./package.js";
export {
  buildEnvironmentFor,
  type CondaFile,
  ENV_FILES,
  type EnvironmentTarget,
  fileInFolder,
  folderFacts,
  type PreflightOptions,
  preflightEnvironment,
  readCondaFile,
} from "./preflight.js";
export { parseCondaSpec, parsePipRequirement, parseRequirementsTxt } from "./requirements.js";
export type { ModelFacts } from "./selection.js";
