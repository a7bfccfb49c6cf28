export {
  findInstanceType,
  INSTANCE_TYPES,
  parseMemoryQuantity,
} from "./instance-types.js";
export {
  checkSpec,
  type Loaded,
  loadDeploymentFile,
  loadEndpointFile,
  parseDeploymentSpec,
  parseEndpointSpec,
  readSpecDocument,
} from "./load.js";
export { type GateThreshold, type PipelineSpec, parsePipelineSpec } from "./pipeline-spec.js";
export { loadRolloutFile, parseRolloutSpec, type RolloutSpec } from "./rollout-spec.js";
export { parseCpuQuantity, type ScaleRule, scaleRuleOf } from "./scale.js";
export {
  type DataCollectorSpec,
  type DeploymentSpec,
  type EndpointSpec,
  environmentAssetSchema,
  modelAssetSchema,
  modelPathOf,
  type ProbeSettings,
  resolveFromSpec,
  SECRET_HEADERS,
} from "./schemas.js";
