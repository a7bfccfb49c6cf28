export {
  buildEnvironment,
  type EnvironmentRecord,
  environmentDir,
  listEnvironments,
} from "./build.js";
export {
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
  preflightEnvironment,
} from "./preflight.js";
export {
  parseCondaSpec,
  parsePipRequirement,
  parseRequirementsTxt,
} from "./requirements.js";
export { buildEnvironmentFor, type ModelFacts } from "./selection.js";
