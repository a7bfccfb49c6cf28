export {
  findInstanceType,
  INSTANCE_TYPES,
  type InstanceType,
  parseMemoryQuantity,
} from "./instance-types.js";
export {
  checkSpec,
  type Loaded,
  loadDeploymentFile,
  loadEndpointFile,
  parseDeploymentSpec,
  parseEndpointSpec,
} from "./load.js";
export {
  type DeploymentSpec,
  deploymentSchema,
  type EndpointSpec,
  endpointSchema,
  modelPathOf,
  type ProbeSettings,
  resolveFromSpec,
} from "./schemas.js";
