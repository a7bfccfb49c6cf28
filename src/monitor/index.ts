export {
  type AlertRecord,
  type AlertRule,
  type AlertSettings,
  loadAlertSettings,
  parseDuration,
} from "./alerts.js";
export { saveBaseline } from "./baselines.js";
export { reportHtml } from "./html.js";
export { registerMonitorMetrics } from "./metrics.js";
export { Monitoring, type MonitorReport } from "./monitoring.js";
export type { SecondStats } from "./series.js";
