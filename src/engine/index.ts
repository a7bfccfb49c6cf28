export { Admission } from "./admission.js";
export {
  generateKey,
  secretsEqual,
  TOKEN_LIFETIME_SECONDS,
  TokenSigner,
  type TokenVerdict,
} from "./credentials.js";
export type { ApplyOptions, DeploymentView, InstanceView } from "./deployments.js";
export type { EndpointView } from "./endpoints.js";
export { Engine, type EngineOptions } from "./engine.js";
export {
  type EngineEvent,
  type EventData,
  type EventKind,
  eventsOf,
  type ProbeKind,
  type RecordedEvent,
} from "./events.js";
export {
  blankEvidence,
  type DeploymentEvidence,
  type InstanceEvidence,
  type LogFile,
  type PreflightEvidence,
  type RequestSummaries,
  type RequestSummary,
} from "./evidence.js";
export type { InstanceState } from "./instance.js";
export { type PreflightContext, preflightDeployment } from "./preflight.js";
export { memoryLimitBytes, type ProgressEvent, type ProgressSink } from "./provisioning.js";
export type { DeploymentTarget, EndpointRoute, RoutedInstance, Routing } from "./routing.js";
export type { DeploymentRecord, EndpointRecord, ProvisioningState } from "./store.js";
export { checkTraffic, parseTrafficArgument, type TrafficMap } from "./traffic.js";
