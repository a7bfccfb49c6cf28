/**
 * What the gateway sees of the engine: a routing table of endpoints (auth, keys, traffic) and the
 * deployments that can take requests now, each with its admission queue and instances. Nothing else
 * of the engine (its store, its tokens, its provisioning) is reachable from the data plane.
 */
import { type DataCollectorSpec, scaleRuleOf } from "../config/index.js";
import type { ModelInterface } from "../model/index.js";
import type { ModelVersion } from "../registry/index.js";
import type { InstanceClient, ScriptSwagger } from "../runtime/index.js";
import { Admission } from "./admission.js";
import type { TokenVerdict } from "./credentials.js";
import type { DeploymentRecord } from "./store.js";
import type { TrafficMap } from "./traffic.js";

/** An endpoint as the gateway routes to it. */
export interface EndpointRoute {
  readonly name: string;
  readonly authMode: "key" | "aml_token";
  readonly keys: readonly [primary: string, secondary: string];
  readonly traffic: TrafficMap;
  readonly mirrorTraffic: TrafficMap;
}

/** An instance as the gateway sends to it (and reports it in /metrics). */
export interface RoutedInstance {
  readonly id: string;
  readonly state: string;
  readonly restarts: number;
  readonly routable: boolean;
  inFlight: number;
  readonly client: InstanceClient | undefined;
  /** A scoring script's schemas and swagger files (undefined for MLflow models). */
  readonly swagger?: ScriptSwagger | undefined;
  /** It has answered nothing for `silentMs` while others answer: out of rotation if it is stuck, not busy. */
  suspectStall(silentMs: number): void;
}

/** A deployment that takes requests now. */
export interface DeploymentTarget {
  readonly endpoint: string;
  readonly name: string;
  readonly modelName: string;
  readonly modelVersion: number;
  /** What requests must carry (columns, tensors, or anything) and what answers hold. */
  readonly interface: ModelInterface;
  /** The names in the signature's params schema; null when it has none (params are then dropped). */
  readonly paramNames: readonly string[] | null;
  /** The MLflow version the model was saved with, when MLmodel says. */
  readonly mlflowVersion: string | null;
  /** A scoring script reads the raw body itself; pier neither parses nor checks it. */
  readonly rawRequests: boolean;
  /** "view": the instance shapes output tensors per protocol; "values": it answers with the model's own values. */
  readonly answers: "view" | "values";
  readonly requestTimeoutMs: number;
  /** The deployment YAML's data_collector, when it has one. */
  readonly dataCollector: DataCollectorSpec | undefined;
  readonly admission: Admission<RoutedInstance>;
  readonly instances: readonly RoutedInstance[];
}

/** The engine, as the gateway may use it. */
export interface Routing {
  endpoint(name: string): EndpointRoute | undefined;
  /** The deployment's live target, or undefined when it has no running instances. */
  target(endpoint: string, deployment: string): DeploymentTarget | undefined;
  deploymentExists(endpoint: string, deployment: string): boolean;
  verifyToken(token: string, endpoint: string): TokenVerdict;
  /** Every deployment that has running instances. */
  targets(): DeploymentTarget[];
  /** While pier restores what it ran before, the restore; undefined otherwise. */
  restoring(): Promise<void> | undefined;
}

/** A deployment's running generation: its record, model version, instances and admission queue. */
export class LiveDeployment<I extends RoutedInstance = RoutedInstance> implements DeploymentTarget {
  instances: I[] = [];
  /** Makes one more instance of this generation (not started), for the autoscaler; set by its start. */
  newInstance: (() => I) | undefined;
  readonly admission: Admission<RoutedInstance>;
  readonly rawRequests: boolean;
  readonly interface: ModelInterface;
  readonly answers: "view" | "values";
  readonly paramNames: readonly string[] | null;

  constructor(
    readonly record: DeploymentRecord,
    readonly version: ModelVersion,
    host: { rawRequests: boolean; interface: ModelInterface; answers: "view" | "values" },
  ) {
    this.rawRequests = host.rawRequests;
    this.interface = host.interface;
    this.answers = host.answers;
    this.paramNames = paramNamesOf(version.signature?.params);
    this.admission = new Admission<RoutedInstance>(
      () => this.instances,
      record.spec.request_settings.max_concurrent_requests_per_instance,
      scaleRuleOf(record.spec)?.max ?? record.spec.instance_count,
    );
  }

  get mlflowVersion(): string | null {
    const v = this.version.mlmodel?.mlflow_version;
    return typeof v === "string" ? v : null;
  }

  get endpoint(): string {
    return this.record.endpoint;
  }

  get name(): string {
    return this.record.name;
  }

  get modelName(): string {
    return this.version.name;
  }

  get modelVersion(): number {
    return this.version.version;
  }

  get requestTimeoutMs(): number {
    return this.record.spec.request_settings.request_timeout_ms;
  }

  get dataCollector(): DataCollectorSpec | undefined {
    return this.record.spec.data_collector;
  }
}

/** The names of a params schema (MLmodel signature.params, a JSON list of {name, dtype, default, shape}). */
function paramNamesOf(text: string | null | undefined): string[] | null {
  if (typeof text !== "string") return null;
  try {
    const list = JSON.parse(text) as { name?: unknown }[];
    return Array.isArray(list) ? list.flatMap((p) => (typeof p?.name === "string" ? [p.name] : [])) : null;
  } catch {
    return null;
  }
}
