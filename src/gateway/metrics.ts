/** Prometheus metrics of the data plane and the instances (prom-client, one registry per server). */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DeploymentTarget, Routing } from "../engine/index.js";

export interface GatewayMetrics {
  registry: Registry;
  mirrored: Counter<"endpoint" | "deployment" | "status">;
  /** Hot-path helpers that reuse labelled children instead of hashing labels per request. */
  countRequest(endpoint: string, deployment: string, status: number): void;
  observeLatency(endpoint: string, deployment: string, seconds: number): void;
}

export function createMetrics(routing: Routing): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "pier_requests_total",
    help: "Scoring requests by endpoint, deployment and HTTP status",
    labelNames: ["endpoint", "deployment", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "pier_request_duration_seconds",
    help: "Scoring latency through the gateway",
    labelNames: ["endpoint", "deployment"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const mirrored = new Counter({
    name: "pier_mirrored_requests_total",
    help: "Mirrored (shadow) requests by endpoint, deployment and status",
    labelNames: ["endpoint", "deployment", "status"] as const,
    registers: [registry],
  });
  const eachTarget = (fn: (endpoint: string, deployment: string, target: DeploymentTarget) => void) => {
    for (const target of routing.targets()) fn(target.endpoint, target.name, target);
  };
  new Gauge({
    name: "pier_requests_in_flight",
    help: "Requests being scored by instances",
    labelNames: ["endpoint", "deployment"] as const,
    registers: [registry],
    collect() {
      this.reset();
      eachTarget((endpoint, deployment, r) => this.set({ endpoint, deployment }, r.admission.inFlight));
    },
  });
  new Gauge({
    name: "pier_requests_queued",
    help: "Requests waiting for a free instance slot",
    labelNames: ["endpoint", "deployment"] as const,
    registers: [registry],
    collect() {
      this.reset();
      eachTarget((endpoint, deployment, r) => this.set({ endpoint, deployment }, r.admission.queued));
    },
  });
  new Gauge({
    name: "pier_instance_state",
    help: "1 for the current state of each instance",
    labelNames: ["endpoint", "deployment", "instance", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      eachTarget((endpoint, deployment, r) => {
        for (const i of r.instances) this.set({ endpoint, deployment, instance: i.id, state: i.state }, 1);
      });
    },
  });
  new Gauge({
    name: "pier_instance_restarts",
    help: "Restarts of each instance since its deployment started",
    labelNames: ["endpoint", "deployment", "instance"] as const,
    registers: [registry],
    collect() {
      this.reset();
      eachTarget((endpoint, deployment, r) => {
        for (const i of r.instances) this.set({ endpoint, deployment, instance: i.id }, i.restarts);
      });
    },
  });
  const counters = new Map<string, ReturnType<typeof requests.labels>>();
  const histograms = new Map<string, ReturnType<typeof latency.labels>>();
  return {
    registry,
    mirrored,
    countRequest(endpoint, deployment, status) {
      const key = `${endpoint}\u0000${deployment}\u0000${status}`;
      let child = counters.get(key);
      if (!child) {
        child = requests.labels({ endpoint, deployment, status: String(status) });
        counters.set(key, child);
      }
      child.inc();
    },
    observeLatency(endpoint, deployment, seconds) {
      const key = `${endpoint}\u0000${deployment}`;
      let child = histograms.get(key);
      if (!child) {
        child = latency.labels({ endpoint, deployment });
        histograms.set(key, child);
      }
      child.observe(seconds);
    },
  };
}
