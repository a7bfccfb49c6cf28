/** Monitoring on /metrics: Azure's data collection counts, alerts firing, webhook deliveries. */
import { Counter, Gauge, type Registry } from "prom-client";
import type { Monitoring } from "./monitoring.js";

export function registerMonitorMetrics(registry: Registry, monitoring: Monitoring): void {
  const { capture } = monitoring;
  new Counter({
    name: "pier_data_collection_events_total",
    help: "Records written by data collectors (Azure's DataCollectionEventsPerMinute, as a counter)",
    labelNames: ["endpoint", "deployment", "collection"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of capture.counts.written) {
        const [endpoint, deployment, collection] = key.split("\u0000") as [string, string, string];
        this.inc({ endpoint, deployment, collection }, n);
      }
    },
  });
  new Counter({
    name: "pier_data_collection_errors_total",
    help: "Records a data collector could not write (a disk error) or dropped (its queue was full)",
    labelNames: ["reason"] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ reason: "write" }, capture.counts.errors);
      this.inc({ reason: "dropped" }, capture.counts.dropped);
    },
  });
  new Gauge({
    name: "pier_alerts_firing",
    help: "Alerts firing now, by rule, endpoint, deployment and severity",
    labelNames: ["alertname", "endpoint", "deployment", "severity"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const a of monitoring.alerts.firing())
        this.inc({ alertname: a.rule, endpoint: a.endpoint, deployment: a.deployment, severity: a.severity });
    },
  });
  new Counter({
    name: "pier_alert_notifications_total",
    help: "Alert notifications to the webhook, by outcome (sent, failed after every retry, dropped from a full queue)",
    labelNames: ["outcome"] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = monitoring.webhook?.counts;
      if (!counts) return;
      this.inc({ outcome: "sent" }, counts.sent);
      this.inc({ outcome: "failed" }, counts.failed);
      this.inc({ outcome: "dropped" }, counts.dropped);
    },
  });
}
