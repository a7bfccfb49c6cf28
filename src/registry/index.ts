export { type ArtifactEntry, ArtifactStore, sha256File } from "./artifact-store.js";
export {
  type ModelVersion,
  REGISTRY_MIGRATIONS,
  type RegisteredModel,
  type RegisterOptions,
  Registry,
} from "./registry.js";
export { checkAliasName, checkModelName, type ModelRef, parseModelUri, type VersionSelector } from "./uri.js";
