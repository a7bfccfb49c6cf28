export { registerRolloutMetrics } from "./metrics.js";
export type { RolloutRecord, StepRecord } from "./record.js";
export { Rollouts } from "./rollouts.js";
