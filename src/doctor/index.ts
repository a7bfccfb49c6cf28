export { deploymentWarnings, describeEvidence, doctorReport } from "./report.js";
export { diagnoseDeployment, diagnosePreflight } from "./rules.js";
export type { Diagnosis, DoctorReport } from "./types.js";
