export { deploymentWarnings, describeEvidence, doctorReport } from "./report.js";
export {
  blankEvidence,
  diagnoseDeployment,
  diagnosePreflight,
  type PreflightEvidence,
} from "./rules.js";
export type {
  DeploymentEvidence,
  Diagnosis,
  DoctorEvent,
  DoctorReport,
  FixAction,
  LogFile,
} from "./types.js";
