export { type ArtifactEntry, ArtifactStore, listModelFiles, sha256File } from "./artifact-store.js";
export {
  ENV_FILES,
  findingLines,
  type ModelVersion,
  REGISTRY_MIGRATIONS,
  type RegisteredModel,
  type RegisterOptions,
  Registry,
} from "./registry.js";
export { checkAliasName, checkModelName, type ModelRef, parseModelUri, type VersionSelector } from "./uri.js";
