export type { ExportResult } from "./azureml.js";
export type { ExportSource } from "./facts.js";
export { exportOffThread } from "./off-thread.js";
export { type CheckFinding, checkExportDir } from "./validate.js";
