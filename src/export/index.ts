export { type ExportResult, exportAzureMl } from "./azureml.js";
export type { ExportSource } from "./facts.js";
export { exportKserve } from "./kserve.js";
export { type CheckFinding, checkExportDir } from "./validate.js";
