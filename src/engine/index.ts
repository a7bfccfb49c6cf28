export { Admission } from "./admission.js";
export {
  secretsEqual,
  TokenSigner,
} from "./credentials.js";
export type { ApplyOptions, DeploymentView } from "./deployments.js";
export type { Credentials, EndpointView } from "./endpoints.js";
export { Engine } from "./engine.js";
export {
  type EngineEvent,
  eventsOf,
  type RecordedEvent,
} from "./events.js";
export {
  blankEvidence,
  type DeploymentEvidence,
  type ModelLayout,
  type PreflightEvidence,
  type RequestSummary,
} from "./evidence.js";
export { preflightDeployment } from "./preflight.js";
export type { ProgressEvent, ProgressSink } from "./provisioning.js";
export type { DeploymentTarget, EndpointRoute, RoutedInstance, Routing } from "./routing.js";
export { parseTrafficArgument, type TrafficMap } from "./traffic.js";
