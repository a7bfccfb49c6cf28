/** Prometheus metrics of the data plane and the instances (prom-client, one registry per server). */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DeploymentTarget, Routing } from "../engine/index.js";

export interface GatewayMetrics {
  registry: Registry;
  mirrored: Counter<"endpoint" | "deployment" | "status">;
  /** Hot-path helpers that reuse labelled children instead of hashing labels per request. */
  countRequest(endpoint: string, deployment: string, status: number): void;
  observeLatency(endpoint: string, deployment: string, seconds: number): void;
  /** A model's own view, under the names inference servers use: its answer took `seconds` for `rows` rows. */
  observeModel(target: DeploymentTarget, seconds: number, rows: number): void;
  /** A request the model (or its instance) failed. */
  modelFailed(target: DeploymentTarget): void;
}

/** KServe's default buckets for request_predict_seconds. */
const PREDICT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
  // The names inference servers use, so their dashboards and alerts work on pier: KServe's predict
  // histogram, MLServer's success and failure counters, Triton's inference and execution counts
  // (average batch size = nv_inference_count / nv_inference_exec_count).
  const modelLabels = ["model_name", "model_version", "endpoint", "deployment"] as const;
  const predict = new Histogram({
    name: "request_predict_seconds",
    help: "Time the model took to answer a scoring request (KServe's name), by model and deployment",
    labelNames: modelLabels,
    buckets: PREDICT_BUCKETS,
    registers: [registry],
  });
  const success = new Counter({
    name: "model_infer_request_success",
    help: "Scoring requests the model answered (MLServer's name)",
    labelNames: modelLabels,
    registers: [registry],
  });
  const failure = new Counter({
    name: "model_infer_request_failure",
    help: "Scoring requests the model or its instance failed: 5xx, 408, 424, 429 (MLServer's name)",
    labelNames: modelLabels,
    registers: [registry],
  });
  const inferences = new Counter({
    name: "nv_inference_count",
    help: "Rows scored (Triton's name); divided by nv_inference_exec_count, the average batch size",
    labelNames: modelLabels,
    registers: [registry],
  });
  const executions = new Counter({
    name: "nv_inference_exec_count",
    help: "Scoring requests executed (Triton's name)",
    labelNames: modelLabels,
    registers: [registry],
  });
  type ModelChildren = {
    predict: ReturnType<typeof predict.labels>;
    success: ReturnType<typeof success.labels>;
    failure: ReturnType<typeof failure.labels>;
    inferences: ReturnType<typeof inferences.labels>;
    executions: ReturnType<typeof executions.labels>;
  };
  const models = new WeakMap<DeploymentTarget, ModelChildren>();
  const modelOf = (target: DeploymentTarget): ModelChildren => {
    let children = models.get(target);
    if (!children) {
      const labels = {
        model_name: target.modelName,
        model_version: String(target.modelVersion),
        endpoint: target.endpoint,
        deployment: target.name,
      };
      children = {
        predict: predict.labels(labels),
        success: success.labels(labels),
        failure: failure.labels(labels),
        inferences: inferences.labels(labels),
        executions: executions.labels(labels),
      };
      models.set(target, children);
    }
    return children;
  };
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
    observeModel(target, seconds, rows) {
      const children = modelOf(target);
      children.predict.observe(seconds);
      children.success.inc();
      children.inferences.inc(rows);
      children.executions.inc();
    },
    modelFailed(target) {
      modelOf(target).failure.inc();
    },
  };
}
