export type { RunRecord } from "./record.js";
export { pipelineReportHtml } from "./report.js";
export { PipelineRuns } from "./runner.js";
