export { materializeBlobs } from "./artifact-store.js";
export {
  type EnvironmentAsset,
  isCuratedEnvironment,
  parseEnvironmentRef,
} from "./environments.js";
export {
  type ModelVersion,
  type RegisteredModel,
  Registry,
} from "./registry.js";
export { type ModelRef, parseModelUri } from "./uri.js";
