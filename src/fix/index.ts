export { type FixRecord, readFixes, recordFix } from "./history.js";
export { planFix } from "./plan.js";
export { type FixSession, runFix } from "./run.js";
