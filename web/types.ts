/**
 * The shapes the management API answers with: the server's own types (src/), imported, never copied,
 * so a change there is a type error here.
 */
export type {
  Answers,
  DeploymentReport as Deployment,
  EndpointSummary,
  ModelDetail,
  Overview,
} from "../src/api/contract.js";
export type { Diagnosis } from "../src/doctor/index.js";
export type { EndpointView, RecordedEvent as EngineEvent } from "../src/engine/index.js";
export type { SecondStats } from "../src/monitor/index.js";
export type { RunRecord as Run } from "../src/pipeline/index.js";
export type { RegisteredModel as ModelSummary } from "../src/registry/index.js";
export type { RolloutRecord as Rollout } from "../src/rollout/index.js";
export type { PierErrorJson as ApiError } from "../src/shared/index.js";
