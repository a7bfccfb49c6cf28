export {
  buildEnvironment,
  checkPackageSource,
  type EnvironmentRecord,
  type EnvironmentRequest,
  environmentDir,
  environmentHash,
  listEnvironments,
  pipLine,
  readyEnvironment,
} from "./build.js";
export {
  type DeclaredEnvironment,
  parseCondaYamlText,
  readCondaYaml,
  readPythonEnvYaml,
  readRequirementsTxt,
} from "./env-files.js";
export {
  flavorPackages,
  flavorVersionKeys,
  frameworkPackages,
  isKnownPackage,
  type Known,
  pythonSatisfies,
  requiresPython,
  supportsNumpy2,
} from "./knowledge.js";
export {
  normalizePackageName,
  parseCondaSpec,
  parsePipRequirement,
  parseRequirementsTxt,
  type Requirement,
} from "./requirements.js";
