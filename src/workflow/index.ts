export type { RunRecord } from "./record.js";
export { pipelineReportHtml } from "./report.js";
export { Workflows } from "./runner.js";
