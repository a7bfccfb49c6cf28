/**
 * The engine: endpoints and deployments as desired state in SQLite, reconciled into supervised
 * instance processes. Provisioning reports each step with its timing, and ends Succeeded or Failed
 * with a code, the evidence and a fix. Restarting `pier up` restores everything from the database.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import {
  type DeploymentSpec,
  type EndpointSpec,
  findInstanceType,
  INSTANCE_TYPES,
  type Loaded,
  modelPathOf,
  parseMemoryQuantity,
  resolveFromSpec,
} from "../config/index.js";
import {
  type DeploymentEvidence,
  type Diagnosis,
  type DoctorReport,
  deploymentWarnings,
  describeEvidence,
  diagnoseDeployment,
  doctorReport,
  type LogFile,
} from "../doctor/index.js";
import { type ColumnSpec, namedInputColumns } from "../model/index.js";
import { listModelFiles, type ModelVersion, parseModelUri, type Registry } from "../registry/index.js";
import {
  type Finding,
  openPierDatabase,
  PierError,
  type PierErrorJson,
  RecentSamples,
  toPierError,
  userError,
} from "../shared/index.js";
import { Admission } from "./admission.js";
import { generateKey, TokenSigner } from "./credentials.js";
import { fileInFolder, folderFacts, preflightEnvironment } from "./environment-selection.js";
import { INFERENCE_SERVER_LOG, Instance, type InstanceEvent, STORAGE_INITIALIZER_LOG } from "./instance.js";
import { prepareRuntime } from "./runtime-selection.js";
import {
  type DeploymentRecord,
  ENGINE_MIGRATIONS,
  type EndpointRecord,
  EngineStore,
  type EventRecord,
  type ScoringCode,
} from "./store.js";
import { checkTraffic, type TrafficMap } from "./traffic.js";

export interface ProgressEvent {
  step: string;
  message: string;
  ms?: number;
  status?: "ok" | "warning" | "error";
}

export type ProgressSink = (event: ProgressEvent) => void;

/** A live deployment: its record, model version, instances and admission queue. */
export class DeploymentRuntime {
  instances: Instance[] = [];
  readonly admission: Admission;
  readonly columns: ColumnSpec[] | null;

  constructor(
    readonly record: DeploymentRecord,
    readonly version: ModelVersion,
    /** A scoring script reads the raw body itself; pier neither parses nor checks it. */
    readonly rawRequests = false,
  ) {
    const requests = record.spec.request_settings;
    this.admission = new Admission(
      () => this.instances,
      requests.max_concurrent_requests_per_instance,
      record.spec.instance_count,
    );
    this.columns = namedInputColumns(version.signature);
  }

  get name(): string {
    return this.record.name;
  }

  /** What clients got from this deployment since it started: counts by status, recent latencies. */
  readonly outcomes = new Map<number, number>();
  readonly latenciesMs = new RecentSamples(LATENCY_SAMPLES);
  /** Requests inside the gateway for this deployment now, and the most at once. */
  active = 0;
  peakActive = 0;
  /**
   * The most client connections that sent requests here within one second: how many clients want to
   * be served at once, even when most of their requests are refused with 429 as soon as they arrive.
   */
  peakClients = 0;
  #clients = new Map<object, number>();

  enter(connection: object): void {
    this.active++;
    if (this.active > this.peakActive) this.peakActive = this.active;
    const now = performance.now();
    this.#clients.set(connection, now);
    if (this.#clients.size > this.peakClients) {
      for (const [c, seen] of this.#clients) if (now - seen > 1000) this.#clients.delete(c);
      this.peakClients = Math.max(this.peakClients, this.#clients.size);
    }
  }

  leave(status: number, ms: number): void {
    this.active--;
    this.outcomes.set(status, (this.outcomes.get(status) ?? 0) + 1);
    if (status === 200) this.latenciesMs.push(ms);
  }
}

/** Successful request latencies a deployment keeps for the doctor. */
const LATENCY_SAMPLES = 2000;

export interface EndpointView {
  name: string;
  auth_mode: string;
  description?: string;
  tags?: Record<string, string>;
  provisioning_state: string;
  scoring_uri: string;
  openapi_uri: string;
  traffic: TrafficMap;
  mirror_traffic: TrafficMap;
  deployments: string[];
}

export interface InstanceView {
  id: string;
  state: string;
  pid: number;
  port: number;
  restarts: number;
  peak_rss_mib: number;
  last_exit?: string;
}

export interface DeploymentView {
  name: string;
  endpoint_name: string;
  provisioning_state: string;
  model: string;
  instance_type: string;
  instance_count: number;
  memory_limit_mib: number;
  request_settings: DeploymentSpec["request_settings"];
  liveness_probe: DeploymentSpec["liveness_probe"];
  readiness_probe: DeploymentSpec["readiness_probe"];
  instances: InstanceView[];
  error: PierErrorJson | null;
  /** For a Failed deployment: the doctor's diagnoses, most fundamental first. */
  diagnoses?: Diagnosis[];
}

const key = (endpoint: string, deployment: string) => `${endpoint}/${deployment}`;

function endpointNotFound(name: string): PierError {
  return new PierError({
    code: "EndpointNotFound",
    summary: `Endpoint '${name}' does not exist`,
    fix: `List endpoints with \`pier endpoint list\`, or create it: pier endpoint create -f endpoint.yml`,
  });
}

function deploymentNotFound(endpoint: string, name: string): PierError {
  return new PierError({
    code: "DeploymentNotFound",
    summary: `Deployment '${name}' does not exist in endpoint '${endpoint}'`,
    fix: `List deployments with \`pier deployment list -e ${endpoint}\`.`,
  });
}

/** The memory an instance may use: resources.limits.memory, else its instance type's memory. */
export function memoryLimitBytes(spec: DeploymentSpec): number {
  const explicit = spec.resources?.limits?.memory;
  if (explicit !== undefined) {
    const bytes = parseMemoryQuantity(explicit);
    if (!bytes)
      throw userError(
        "BadArgument",
        `resources.limits.memory '${explicit}' is not a quantity such as 512Mi or 8Gi`,
        "Write it as <number>Mi or <number>Gi.",
      );
    return bytes;
  }
  const type = findInstanceType(spec.instance_type);
  if (!type) {
    throw userError(
      "BadArgument",
      `instance_type '${spec.instance_type}' is not a VM size pier knows`,
      `Use one of: ${INSTANCE_TYPES.map((t) => t.name).join(", ")}.`,
    );
  }
  return type.memoryGiB * 2 ** 30;
}

export class Engine {
  readonly store: EngineStore;
  readonly tokens: TokenSigner;
  readonly #runtimes = new Map<string, DeploymentRuntime>();
  /** Instances of failed starts that go on loading to be measured; stopped with pier. */
  readonly #lingering = new Map<Instance, string>();
  /** Endpoint records for the hot path; only this engine writes them, so it keeps the cache true. */
  readonly #endpointCache = new Map<string, EndpointRecord>();
  /** Serializes control-plane changes per endpoint. */
  readonly #locks = new Map<string, Promise<unknown>>();
  baseUrl = "http://127.0.0.1";

  constructor(
    readonly home: string,
    readonly registry: Registry,
  ) {
    this.store = new EngineStore(openPierDatabase(home, ENGINE_MIGRATIONS));
    this.tokens = new TokenSigner(home);
  }

  async #withLock<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(endpoint) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.#locks.set(endpoint, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(endpoint) === next) this.#locks.delete(endpoint);
    }
  }

  #endpoint(name: string): EndpointRecord {
    const record = this.store.endpoint(name);
    if (!record) throw endpointNotFound(name);
    return record;
  }

  runtime(endpoint: string, deployment: string): DeploymentRuntime | undefined {
    return this.#runtimes.get(key(endpoint, deployment));
  }

  endpointRecord(name: string): EndpointRecord | undefined {
    const cached = this.#endpointCache.get(name);
    if (cached) return cached;
    // Unknown names are not cached, so requests for made-up endpoints cannot grow the cache.
    const record = this.store.endpoint(name);
    if (record) this.#endpointCache.set(name, record);
    return record;
  }

  #forget(name: string): void {
    this.#endpointCache.delete(name);
  }

  endpointView(record: EndpointRecord): EndpointView {
    return {
      name: record.name,
      auth_mode: record.spec.auth_mode,
      ...(record.spec.description ? { description: record.spec.description } : {}),
      ...(record.spec.tags ? { tags: record.spec.tags } : {}),
      provisioning_state: record.provisioningState,
      scoring_uri: `${this.baseUrl}/endpoints/${record.name}/score`,
      openapi_uri: `${this.baseUrl}/endpoints/${record.name}/swagger.json`,
      traffic: record.traffic,
      mirror_traffic: record.mirrorTraffic,
      deployments: this.store.deployments(record.name).map((d) => d.name),
    };
  }

  showEndpoint(name: string): EndpointView {
    return this.endpointView(this.#endpoint(name));
  }

  listEndpoints(): EndpointView[] {
    return this.store.endpoints().map((e) => this.endpointView(e));
  }

  createEndpoint(loaded: Loaded<EndpointSpec>): EndpointView {
    const { spec } = loaded;
    if (this.store.endpoint(spec.name)) {
      throw userError(
        "EndpointExists",
        `Endpoint '${spec.name}' already exists`,
        `Change it with \`pier endpoint update -f …\`, or delete it first.`,
      );
    }
    if (
      Object.values(spec.traffic ?? {}).some((p) => p > 0) ||
      Object.values(spec.mirror_traffic ?? {}).some((p) => p > 0)
    ) {
      throw userError(
        "BadArgument",
        "traffic cannot be set when an endpoint is created: its deployments do not exist yet",
        'Create the endpoint, then the deployment with --all-traffic, or run `pier endpoint update NAME --traffic "blue=100"`.',
      );
    }
    this.store.insertEndpoint({
      name: spec.name,
      spec: { ...spec, traffic: undefined, mirror_traffic: undefined },
      primaryKey: generateKey(),
      secondaryKey: generateKey(),
      traffic: {},
      mirrorTraffic: {},
      provisioningState: "Succeeded",
    });
    this.#forget(spec.name);
    this.store.addEvent(
      spec.name,
      null,
      null,
      "EndpointCreated",
      `endpoint created (auth_mode ${spec.auth_mode})`,
    );
    return this.showEndpoint(spec.name);
  }

  /** Changes traffic, mirror traffic, description or tags; checks Azure's traffic rules first. */
  updateEndpoint(
    name: string,
    changes: { traffic?: TrafficMap; mirrorTraffic?: TrafficMap; spec?: EndpointSpec },
  ): EndpointView {
    const record = this.#endpoint(name);
    if (changes.spec && changes.spec.auth_mode !== record.spec.auth_mode) {
      throw userError(
        "BadArgument",
        `auth_mode cannot change from ${record.spec.auth_mode} to ${changes.spec.auth_mode} on an existing endpoint`,
        "Create a new endpoint with the other auth_mode.",
      );
    }
    const deployments = this.store.deployments(name).map((d) => d.name);
    // A new traffic map replaces the old one: deployments it does not name get 0%, as in Azure.
    const traffic = changes.traffic ?? changes.spec?.traffic ?? record.traffic;
    const mirror = changes.mirrorTraffic ?? changes.spec?.mirror_traffic ?? record.mirrorTraffic;
    checkTraffic(traffic, mirror, deployments, name);
    const clean = (map: TrafficMap) => Object.fromEntries(Object.entries(map).filter(([, p]) => p > 0));
    this.store.updateEndpoint(name, {
      traffic: clean(traffic),
      mirrorTraffic: clean(mirror),
      ...(changes.spec ? { spec: { ...changes.spec, traffic: undefined, mirror_traffic: undefined } } : {}),
    });
    this.#forget(name);
    this.store.addEvent(
      name,
      null,
      null,
      "EndpointUpdated",
      `traffic ${JSON.stringify(clean(traffic))}, mirror ${JSON.stringify(clean(mirror))}`,
    );
    return this.showEndpoint(name);
  }

  async deleteEndpoint(name: string): Promise<{ deleted: string }> {
    this.#endpoint(name);
    return this.#withLock(name, async () => {
      this.store.updateEndpoint(name, { provisioningState: "Deleting" });
      for (const d of this.store.deployments(name)) await this.#stopRuntime(name, d.name);
      this.store.deleteEndpoint(name);
      this.#forget(name);
      return { deleted: name };
    });
  }

  credentials(name: string): Record<string, string | number> {
    const record = this.#endpoint(name);
    if (record.spec.auth_mode === "aml_token") return this.tokens.issue(name);
    return { primaryKey: record.primaryKey, secondaryKey: record.secondaryKey };
  }

  regenerateKey(name: string, keyType: "primary" | "secondary"): Record<string, string | number> {
    const record = this.#endpoint(name);
    if (record.spec.auth_mode !== "key") {
      throw userError(
        "BadArgument",
        `Endpoint '${name}' uses ${record.spec.auth_mode}, which has no keys to regenerate`,
        "Get a fresh token with `pier endpoint get-credentials`.",
      );
    }
    this.store.updateEndpoint(
      name,
      keyType === "primary" ? { primaryKey: generateKey() } : { secondaryKey: generateKey() },
    );
    this.#forget(name);
    this.store.addEvent(name, null, null, "KeyRegenerated", `${keyType} key regenerated`);
    return this.credentials(name);
  }

  #resolveModel(spec: DeploymentSpec, specDir: string, progress: ProgressSink): ModelVersion {
    const started = performance.now();
    const model = spec.model!;
    const ref = parseModelUri(modelPathOf(spec)!);
    let version: ModelVersion;
    if (ref.kind === "registry") {
      version = this.registry.resolve(ref);
    } else {
      const path = resolveFromSpec(ref.path, specDir);
      const name =
        typeof model === "object" && model.name ? model.name : `${spec.endpoint_name}-${spec.name}`;
      // A scoring script's model is any folder (Azure's custom_model); otherwise it must be an MLflow model.
      const type =
        spec.code_configuration || (typeof model === "object" && model.type === "custom_model")
          ? "custom_model"
          : "mlflow_model";
      version = this.registry.register(path, {
        name,
        type,
        description: `registered by deployment ${spec.endpoint_name}/${spec.name}`,
      });
    }
    progress({
      step: "model",
      message: `models:/${version.name}/${version.version}: ${version.artifacts.length} files, ${version.sizeBytes} bytes, sha256 recorded`,
      ms: performance.now() - started,
      status: "ok",
    });
    return version;
  }

  #instanceEvent(endpoint: string, deployment: string, runtime: () => DeploymentRuntime | undefined) {
    return (event: InstanceEvent) => {
      this.store.addEvent(endpoint, deployment, event.instance, event.kind, event.message, event.data);
      if (event.kind === "Ready") runtime()?.admission.poke();
    };
  }

  /** Starts the instances of a deployment; resolves when all are Ready, throws the first startup failure. */
  async #startRuntime(
    record: DeploymentRecord,
    version: ModelVersion,
    progress: ProgressSink,
  ): Promise<DeploymentRuntime> {
    const spec = record.spec;
    const preparing = performance.now();
    const prepared = await prepareRuntime(version, spec, record.code, {
      home: this.home,
      progress: (message) => progress({ step: "environment", message, status: "ok" }),
      artifactPath: (path) => {
        const artifact = version.artifacts.find((a) => a.path === path);
        return artifact ? this.registry.store.blobPath(artifact.sha256) : undefined;
      },
    });
    const memory = memoryLimitBytes(spec);
    progress({
      step: "environment",
      message: `runtime ${prepared.description}, ${spec.instance_type}: memory limit ${(memory / 2 ** 20).toFixed(0)} MiB per instance`,
      ms: performance.now() - preparing,
      status: "ok",
    });
    for (const finding of prepared.findings)
      progress({ step: "environment", message: `${finding.code}: ${finding.message}`, status: "warning" });
    for (const finding of prepared.findings)
      this.store.addEvent(record.endpoint, record.name, null, finding.code, finding.message, { finding });
    // The preflight (package validation at registration + this environment check) passed; say what it left.
    const warnings = [...version.findings, ...prepared.findings].filter((f) => f.severity === "warning");
    progress({
      step: "preflight",
      message: `package and environment checked before any instance starts: no errors${warnings.length ? `, ${warnings.length} warning(s) (${[...new Set(warnings.map((w) => w.code))].join(", ")}); \`pier doctor\` explains them` : ""}`,
      status: warnings.length ? "warning" : "ok",
    });
    const runtime = new DeploymentRuntime(record, version, prepared.rawRequests);
    const generation = Date.now().toString(36);
    runtime.instances = Array.from(
      { length: spec.instance_count },
      (_, index) =>
        new Instance({
          id: `${record.name}-${generation}-${index}`,
          dir: join(this.home, "instances", record.endpoint, record.name, `${generation}-${index}`),
          layout: prepared.layout,
          store: this.registry.store,
          command: prepared.command,
          liveness: spec.liveness_probe,
          readiness: spec.readiness_probe,
          memoryLimitBytes: memory,
          maxConcurrent: spec.request_settings.max_concurrent_requests_per_instance,
          onEvent: this.#instanceEvent(record.endpoint, record.name, () => runtime),
        }),
    );
    const started = performance.now();
    const results = await Promise.allSettled(runtime.instances.map((i) => i.start()));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure) {
      // An instance still loading past its deadline is left to finish (and be measured), then stops itself.
      for (const i of this.#lingering.keys()) if (!i.measuringLateLoad) this.#lingering.delete(i);
      for (const i of runtime.instances)
        if (i.measuringLateLoad) this.#lingering.set(i, key(record.endpoint, record.name));
      await Promise.all(runtime.instances.filter((i) => !i.measuringLateLoad).map((i) => i.stop(1000)));
      throw toPierError(failure.reason);
    }
    const loads = runtime.instances.map((i) => i.loadMs);
    progress({
      step: "instances",
      message: `${runtime.instances.length} instance(s) Ready (storage init + process start + model load ${Math.max(...loads).toFixed(0)} ms)`,
      ms: performance.now() - started,
      status: "ok",
    });
    return runtime;
  }

  async #stopRuntime(endpoint: string, deployment: string): Promise<void> {
    const runtime = this.#runtimes.get(key(endpoint, deployment));
    this.#runtimes.delete(key(endpoint, deployment));
    const lingering = [...this.#lingering].filter(([, k]) => k === key(endpoint, deployment)).map(([i]) => i);
    for (const i of lingering) this.#lingering.delete(i);
    await Promise.all([...(runtime?.instances ?? []), ...lingering].map((i) => i.stop()));
  }

  /**
   * Creates or updates a deployment and waits for the outcome. On update the old instances keep
   * serving until the new ones are Ready; if the new ones fail, the old ones stay.
   */
  async applyDeployment(
    loaded: Loaded<DeploymentSpec>,
    options: { specDir: string; allTraffic?: boolean; mode: "create" | "update"; progress?: ProgressSink },
  ): Promise<DeploymentView> {
    const { spec } = loaded;
    const progress = options.progress ?? (() => {});
    for (const warning of loaded.warnings) progress({ step: "config", message: warning, status: "warning" });
    this.#endpoint(spec.endpoint_name);
    if (!spec.model) {
      throw userError(
        "BadArgument",
        `${spec.name}: pier needs a model for every deployment (custom containers are not supported)`,
        "Add model: ./model-folder or model: models:/NAME/VERSION.",
      );
    }
    const existing = this.store.deployment(spec.endpoint_name, spec.name);
    if (options.mode === "create" && existing) {
      throw userError(
        "DeploymentExists",
        `Deployment '${spec.name}' already exists in endpoint '${spec.endpoint_name}'`,
        `Change it with \`pier deployment update -f …\`, or delete it first.`,
      );
    }
    if (options.mode === "update" && !existing) throw deploymentNotFound(spec.endpoint_name, spec.name);
    if (options.mode === "create" && this.store.deployments(spec.endpoint_name).length >= 20) {
      throw userError(
        "OutOfQuota",
        `Endpoint '${spec.endpoint_name}' already has 20 deployments, Azure's limit`,
        "Delete a deployment you no longer need.",
      );
    }
    memoryLimitBytes(spec);
    return this.#withLock(spec.endpoint_name, async () => {
      const state = options.mode === "create" ? "Creating" : "Updating";
      const started = performance.now();
      let version: ModelVersion;
      let code: ScoringCode | null;
      try {
        version = this.#resolveModel(spec, options.specDir, progress);
        code = spec.code_configuration ? this.#snapshotCode(spec, options.specDir, progress) : null;
      } catch (error) {
        let e = toPierError(error);
        // A new deployment whose model cannot be registered is recorded as Failed with the cause;
        // an update that cannot resolve its model changes nothing.
        if (options.mode === "update" || e.class === "system") throw e;
        e = await this.#withEnvironmentEvidence(e, spec, options.specDir);
        const model = spec.model!;
        const ref = parseModelUri(modelPathOf(spec)!);
        this.store.upsertDeployment({
          endpoint: spec.endpoint_name,
          name: spec.name,
          spec,
          modelName:
            ref.kind === "registry"
              ? ref.name
              : typeof model === "object" && model.name
                ? model.name
                : `${spec.endpoint_name}-${spec.name}`,
          modelVersion: 0,
          provisioningState: "Failed",
          error: e.toJSON(),
          code: null,
        });
        this.#reportFailure(spec, e, progress, performance.now() - started);
        return this.showDeployment(spec.endpoint_name, spec.name);
      }
      const record: DeploymentRecord = {
        endpoint: spec.endpoint_name,
        name: spec.name,
        spec,
        modelName: version.name,
        modelVersion: version.version,
        provisioningState: state,
        error: null,
        code,
        createdAt: existing?.createdAt ?? Date.now(),
        updatedAt: Date.now(),
      };
      this.store.upsertDeployment(record);
      this.store.addEvent(
        spec.endpoint_name,
        spec.name,
        null,
        state,
        `${state.toLowerCase()} with models:/${version.name}/${version.version}`,
      );
      try {
        const runtime = await this.#startRuntime(record, version, progress);
        const previous = this.#runtimes.get(key(spec.endpoint_name, spec.name));
        this.#runtimes.set(key(spec.endpoint_name, spec.name), runtime);
        if (previous) await Promise.all(previous.instances.map((i) => i.stop()));
        record.provisioningState = "Succeeded";
        this.store.setDeploymentState(spec.endpoint_name, spec.name, "Succeeded");
        this.store.addEvent(
          spec.endpoint_name,
          spec.name,
          null,
          "Succeeded",
          `ready in ${(performance.now() - started).toFixed(0)} ms`,
        );
        if (options.allTraffic) this.updateEndpoint(spec.endpoint_name, { traffic: { [spec.name]: 100 } });
        progress({
          step: "done",
          message: `Succeeded in ${(performance.now() - started).toFixed(0)} ms`,
          ms: performance.now() - started,
          status: "ok",
        });
      } catch (error) {
        const e = toPierError(error);
        this.store.setDeploymentState(spec.endpoint_name, spec.name, "Failed", e.toJSON());
        this.#reportFailure(spec, e, progress, performance.now() - started);
      }
      return this.showDeployment(spec.endpoint_name, spec.name);
    });
  }

  /**
   * A model folder that fails validation may have environment problems too: check them as well (nothing
   * starts or builds), so the error names every cause at once.
   */
  async #withEnvironmentEvidence(e: PierError, spec: DeploymentSpec, specDir: string): Promise<PierError> {
    const text = modelPathOf(spec);
    if (e.code !== "ModelValidationFailed" || !text || spec.code_configuration) return e;
    const ref = parseModelUri(text);
    if (ref.kind === "registry") return e;
    const folder = resolveFromSpec(ref.path, specDir);
    try {
      await preflightEnvironment(
        { model: folderFacts(folder) },
        spec.environment_variables?.PIER_PYTHON,
        this.home,
        fileInFolder(folder),
      );
      return e;
    } catch (error) {
      const environment = toPierError(error);
      if (environment.code === "ModelValidationFailed") return e;
      return new PierError({
        code: e.code,
        summary: e.summary,
        details: [...e.details, `and the environment: ${environment.code}: ${environment.summary}`],
        ...(e.fix ? { fix: e.fix } : {}),
        data: { ...e.data, environment: environment.toJSON() },
      });
    }
  }

  /** Records a failed provisioning as an event and as the last progress line. */
  #reportFailure(spec: DeploymentSpec, e: PierError, progress: ProgressSink, ms: number): void {
    this.store.addEvent(spec.endpoint_name, spec.name, null, "Failed", `${e.code}: ${e.summary}`, {
      error: e.toJSON(),
    });
    progress({ step: "failed", message: `${e.code}: ${e.summary}`, ms, status: "error" });
  }

  /** Copies a scoring script's code folder into the artifact store (so later edits do not leak in) and reads its conda file. */
  #snapshotCode(spec: DeploymentSpec, specDir: string, progress: ProgressSink): ScoringCode {
    const started = performance.now();
    const { code, scoring_script } = spec.code_configuration!;
    const dir = isAbsolute(code) ? code : resolve(specDir, code);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw userError(
        "BadArgument",
        `code_configuration.code '${code}' is not a folder (looked in ${dir})`,
        "Point code_configuration.code at the folder that holds the scoring script.",
      );
    }
    const files = listModelFiles(dir);
    if (!files.includes(scoring_script)) {
      throw userError(
        "BadArgument",
        `code_configuration.scoring_script '${scoring_script}' is not in ${dir}`,
        `Use a path relative to the code folder; it holds: ${files.slice(0, 10).join(", ") || "(nothing)"}.`,
      );
    }
    const artifacts = files.map((path) => ({ path, ...this.registry.store.put(join(dir, path)) }));
    const environment = spec.environment;
    let conda: string | null = null;
    if (environment && typeof environment === "object" && environment.conda_file) {
      const condaPath = isAbsolute(environment.conda_file)
        ? environment.conda_file
        : resolve(specDir, environment.conda_file);
      if (!existsSync(condaPath)) {
        throw userError(
          "BadArgument",
          `environment.conda_file '${environment.conda_file}' does not exist (looked at ${condaPath})`,
          "Fix the path in the deployment YAML.",
        );
      }
      conda = readFileSync(condaPath, "utf8");
    }
    progress({
      step: "code",
      message: `${artifacts.length} files of ${dir} snapshotted (scoring script ${scoring_script})${conda ? ", conda file read" : ""}`,
      ms: performance.now() - started,
      status: "ok",
    });
    return { artifacts, scoringScript: scoring_script, conda };
  }

  async deleteDeployment(endpoint: string, name: string): Promise<{ deleted: string }> {
    const record = this.#endpoint(endpoint);
    if (!this.store.deployment(endpoint, name)) throw deploymentNotFound(endpoint, name);
    if ((record.traffic[name] ?? 0) > 0 || (record.mirrorTraffic[name] ?? 0) > 0) {
      throw userError(
        "BadArgument",
        `Deployment '${name}' still receives ${(record.traffic[name] ?? 0) > 0 ? `${record.traffic[name]}% of live traffic` : `${record.mirrorTraffic[name]}% mirrored traffic`}; it cannot be deleted`,
        `Move its traffic first, e.g. pier endpoint update ${endpoint} --traffic "<other>=100"${(record.mirrorTraffic[name] ?? 0) > 0 ? ` --mirror-traffic "${name}=0"` : ""}`,
      );
    }
    return this.#withLock(endpoint, async () => {
      this.store.setDeploymentState(endpoint, name, "Deleting");
      await this.#stopRuntime(endpoint, name);
      this.store.deleteDeployment(endpoint, name);
      this.store.addEvent(endpoint, name, null, "Deleted", "deployment deleted");
      return { deleted: `${endpoint}/${name}` };
    });
  }

  showDeployment(endpoint: string, name: string): DeploymentView {
    const record = this.store.deployment(endpoint, name);
    if (!record) {
      this.#endpoint(endpoint);
      throw deploymentNotFound(endpoint, name);
    }
    const runtime = this.#runtimes.get(key(endpoint, name));
    return {
      name: record.name,
      endpoint_name: record.endpoint,
      provisioning_state: record.provisioningState,
      model: `models:/${record.modelName}/${record.modelVersion}`,
      instance_type: record.spec.instance_type,
      instance_count: record.spec.instance_count,
      memory_limit_mib: Math.round(memoryLimitBytes(record.spec) / 2 ** 20),
      request_settings: record.spec.request_settings,
      liveness_probe: record.spec.liveness_probe,
      readiness_probe: record.spec.readiness_probe,
      instances: (runtime?.instances ?? []).map((i) => ({
        id: i.id,
        state: i.state,
        pid: i.pid,
        port: i.port,
        restarts: i.restarts,
        peak_rss_mib: Math.round(i.peakRssBytes / 2 ** 20),
        ...(i.lastExit ? { last_exit: i.lastExit } : {}),
      })),
      error: record.error,
      // A Failed deployment, or one whose instances are not well, carries the doctor's diagnoses.
      ...(record.provisioningState === "Failed" ||
      (runtime?.instances ?? []).some((i) =>
        ["CrashLoop", "Restarting", "Unready", "Failed"].includes(i.state),
      )
        ? { diagnoses: diagnoseDeployment(this.evidence(endpoint, name)) }
        : {}),
    };
  }

  listDeployments(endpoint: string): DeploymentView[] {
    this.#endpoint(endpoint);
    return this.store.deployments(endpoint).map((d) => this.showDeployment(endpoint, d.name));
  }

  events(endpoint: string, deployment?: string): EventRecord[] {
    this.#endpoint(endpoint);
    return this.store.events(endpoint, deployment);
  }

  /** The last `lines` lines of a container's log for each of the deployment's newest instances. */
  logs(
    endpoint: string,
    name: string,
    container: "inference-server" | "storage-initializer",
    lines: number,
  ): string {
    if (!this.store.deployment(endpoint, name)) {
      this.#endpoint(endpoint);
      throw deploymentNotFound(endpoint, name);
    }
    const file = container === "storage-initializer" ? STORAGE_INITIALIZER_LOG : INFERENCE_SERVER_LOG;
    const current = this.#currentInstanceDirs(endpoint, name);
    return current
      .map(({ dir, id }) => {
        const path = join(dir, file);
        const text = existsSync(path) ? readFileSync(path, "utf8") : "";
        const tail = text
          .split("\n")
          .filter((l, i, all) => l !== "" || i < all.length - 1)
          .slice(-lines);
        return current.length > 1 ? tail.map((l) => `[${name}-${id}] ${l}`).join("\n") : tail.join("\n");
      })
      .join("\n");
  }

  /** The folders of the deployment's newest generation of instances (the latest create or update). */
  #currentInstanceDirs(endpoint: string, name: string): { dir: string; id: string }[] {
    const base = join(this.home, "instances", endpoint, name);
    if (!existsSync(base)) return [];
    const dirs = readdirSync(base).map((d) => ({
      d,
      generation: d.split("-")[0]!,
      mtime: statSync(join(base, d)).mtimeMs,
    }));
    const newest = dirs.sort((a, b) => b.mtime - a.mtime)[0]?.generation;
    return dirs
      .filter((x) => x.generation === newest)
      .sort((a, b) => a.d.localeCompare(b.d))
      .map(({ d }) => ({ dir: join(base, d), id: d }));
  }

  /** What pier knows about a deployment, for the doctor: its record, findings, events, logs, requests. */
  evidence(endpoint: string, name: string): DeploymentEvidence {
    const record = this.store.deployment(endpoint, name);
    if (!record) {
      this.#endpoint(endpoint);
      throw deploymentNotFound(endpoint, name);
    }
    let findings: Finding[] = [];
    if (record.modelVersion > 0) {
      try {
        findings = this.registry.getVersion(record.modelName, record.modelVersion).findings;
      } catch {}
    }
    // Events of the latest attempt: from its Creating/Updating on, oldest first.
    const all = this.store.events(endpoint, name, 1000);
    const attemptStart = all.findLastIndex(
      (e) => e.instance === null && (e.kind === "Creating" || e.kind === "Updating"),
    );
    const events = all.slice(Math.max(0, attemptStart));
    const logs: LogFile[] = this.#currentInstanceDirs(endpoint, name).flatMap(({ dir, id }) =>
      [INFERENCE_SERVER_LOG, STORAGE_INITIALIZER_LOG]
        .map((file) => join(dir, file))
        .filter((path) => existsSync(path))
        .map((path) => ({
          source: `${basename(path, ".log")} (${id})`,
          path,
          lines: readFileSync(path, "utf8").split("\n").slice(-5000),
        })),
    );
    const runtime = this.#runtimes.get(key(endpoint, name));
    const instances = runtime?.instances ?? [];
    return {
      endpoint,
      deployment: name,
      spec: record.spec,
      memoryLimitBytes: memoryLimitBytes(record.spec),
      state: record.provisioningState,
      error: record.error,
      findings,
      events: events.map(({ at, instance, kind, message, data }) => ({ at, instance, kind, message, data })),
      logs,
      instances: instances.map((i) => ({
        id: i.id,
        state: i.state,
        restarts: i.restarts,
        peakRssBytes: i.peakRssBytes,
        loadMs: i.loadMs,
      })),
      outcomes: Object.fromEntries(
        [...(runtime?.outcomes ?? new Map<number, number>())].map(([k, v]) => [String(k), v]),
      ),
      latenciesMs: runtime?.latenciesMs.values() ?? [],
      lateAnswersMs: instances.flatMap((i) => i.lateAnswersMs.values()),
      peakConcurrentRequests: Math.max(runtime?.peakActive ?? 0, runtime?.peakClients ?? 0),
    };
  }

  /** The doctor on one deployment, or on every deployment of the endpoint. */
  doctor(endpoint: string, name?: string): DoctorReport[] {
    this.#endpoint(endpoint);
    const names = name ? [name] : this.store.deployments(endpoint).map((d) => d.name);
    return names.map((n) => {
      const started = performance.now();
      const evidence = this.evidence(endpoint, n);
      return doctorReport(
        `${endpoint}/${n}`,
        diagnoseDeployment(evidence),
        describeEvidence(evidence),
        started,
        deploymentWarnings(evidence),
      );
    });
  }

  /** Brings back every deployment recorded as Succeeded, Creating or Updating. */
  async restore(progress: ProgressSink = () => {}): Promise<void> {
    for (const record of this.store.deployments()) {
      if (record.provisioningState === "Failed") continue;
      try {
        const version = this.registry.getVersion(record.modelName, record.modelVersion);
        progress({
          step: "restore",
          message: `${record.endpoint}/${record.name}: starting models:/${version.name}/${version.version}`,
        });
        this.store.setDeploymentState(record.endpoint, record.name, "Updating");
        const runtime = await this.#startRuntime(record, version, () => {});
        this.#runtimes.set(key(record.endpoint, record.name), runtime);
        this.store.setDeploymentState(record.endpoint, record.name, "Succeeded");
        progress({ step: "restore", message: `${record.endpoint}/${record.name}: Succeeded`, status: "ok" });
      } catch (error) {
        const e = toPierError(error);
        this.store.setDeploymentState(record.endpoint, record.name, "Failed", e.toJSON());
        progress({
          step: "restore",
          message: `${record.endpoint}/${record.name}: Failed: ${e.code}: ${e.summary}`,
          status: "error",
        });
      }
    }
  }

  /** Stops every instance: gracefully, then forcefully after the grace period. */
  async shutdown(graceMs = 5000): Promise<void> {
    const runtimes = [...this.#runtimes.values()];
    this.#runtimes.clear();
    const lingering = [...this.#lingering.keys()];
    this.#lingering.clear();
    await Promise.all([
      ...runtimes.flatMap((r) => r.instances.map((i) => i.stop(graceMs))),
      ...lingering.map((i) => i.stop(graceMs)),
    ]);
    this.store.db.close();
  }
}
