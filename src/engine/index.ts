export { Admission } from "./admission.js";
export { generateKey, secretsEqual, TOKEN_LIFETIME_SECONDS, TokenSigner } from "./credentials.js";
export {
  DeploymentRuntime,
  type DeploymentView,
  type EndpointView,
  Engine,
  type InstanceView,
  memoryLimitBytes,
  type ProgressEvent,
  type ProgressSink,
} from "./engine.js";
export {
  buildEnvironmentFor,
  fileInFolder,
  folderFacts,
  type ModelFacts,
  preflightEnvironment,
} from "./environment-selection.js";
export { Instance, type InstanceState } from "./instance.js";
export type { DeploymentRecord, EndpointRecord, EventRecord, ProvisioningState } from "./store.js";
export { checkTraffic, parseTrafficArgument, type TrafficMap } from "./traffic.js";
