export { ArtifactStore } from "./artifact-store.js";
export {
  type ModelVersion,
  type RegisteredModel,
  Registry,
} from "./registry.js";
export { type ModelRef, parseModelUri } from "./uri.js";
