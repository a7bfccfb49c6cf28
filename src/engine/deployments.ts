/**
 * Deployments: desired state in pier.db, reconciled into a live generation of supervised instances.
 * A create or update is one attempt, recorded from Creating/Updating to Succeeded or Failed; on
 * update the old instances serve until the new ones are Ready, and stay if the new ones fail.
 * Restarting `pier up` restores every deployment that was not Failed.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import {
  type DeploymentSpec,
  type Loaded,
  modelPathOf,
  type ProbeSettings,
  resolveFromSpec,
} from "../config/index.js";
import { type Fidelity, fileInFolder, folderFacts, preflightEnvironment } from "../env/index.js";
import { type ModelVersion, parseModelUri, type Registry } from "../registry/index.js";
import { type ScriptCode, WarmPythons } from "../runtime/index.js";
import { type Logger, PierError, type PierErrorJson, toPierError, userError } from "../shared/index.js";
import { cannotRunHere, scriptNeedsIdentity } from "./azure-only.js";
import type { Endpoints } from "./endpoints.js";
import type { EventKind } from "./events.js";
import {
  blankEvidence,
  type DeploymentEvidence,
  instanceLogs,
  latestAttempt,
  type ModelLayout,
  NO_REQUESTS,
  type RequestSummaries,
  tailLogs,
} from "./evidence.js";
import type { Instance, InstanceEvent } from "./instance.js";
import {
  fidelityOf,
  memoryLimitBytes,
  type ProgressSink,
  resolveModel,
  type StartContext,
  StartFailed,
  snapshotCode,
  startGeneration,
} from "./provisioning.js";
import type { LiveDeployment } from "./routing.js";
import { Autoscaler } from "./scaling.js";
import type { DeploymentRecord, EngineStore } from "./store.js";

export interface InstanceView {
  id: string;
  state: string;
  pid: number;
  port: number;
  restarts: number;
  peak_rss_mib: number;
  last_exit?: string;
  /** How long it has answered nothing and been out of rotation (while others answer). */
  out_of_rotation_ms?: number;
}

export interface DeploymentView {
  name: string;
  endpoint_name: string;
  provisioning_state: string;
  model: string;
  instance_type: string;
  /** Instances now: instance_count, or what the autoscaler has set between min and max. */
  instance_count: number;
  /** A target_utilization deployment's bounds and target; absent when the count is fixed. */
  autoscale?: { min_instances: number; max_instances: number; target_utilization_percentage: number };
  memory_limit_mib: number;
  request_settings: DeploymentSpec["request_settings"];
  liveness_probe: ProbeSettings;
  readiness_probe: ProbeSettings;
  instances: InstanceView[];
  error: PierErrorJson | null;
  /** The YAML file it was applied from, when it came from one. */
  source_file: string | null;
}

export interface ApplyOptions {
  specDir: string;
  allTraffic?: boolean;
  mode: "create" | "update";
  progress?: ProgressSink;
  /** `--fidelity`: overrides the YAML's environment_variables.PIER_FIDELITY and pier's PIER_FIDELITY. */
  fidelity?: string;
  /** The YAML file the spec came from, when it came from one. */
  sourceFile?: string;
}

/**
 * Whether a Failed deployment may start now: it has a registered version and failed for a cause
 * outside its own files (a corrupt blob repaired since, a package installed, memory freed, an index
 * back), not for what its files or YAML say (a validation error, a script that raises).
 */
function mayHaveGone(record: DeploymentRecord): boolean {
  const code = record.error?.code;
  return (
    record.modelVersion > 0 &&
    code !== undefined &&
    !code.startsWith("UserScript") &&
    !["ModelValidationFailed", "EnvironmentUnresolvable", "SignatureGraphMismatch", "BadArgument"].includes(
      code,
    ) &&
    record.error?.class !== "user"
  );
}

function autoscaleOf(spec: DeploymentSpec): Pick<DeploymentView, "autoscale"> {
  const scale = spec.scale_settings;
  if (scale?.type !== "target_utilization") return {};
  const { min_instances, max_instances, target_utilization_percentage } = scale;
  return { autoscale: { min_instances, max_instances, target_utilization_percentage } };
}

/** Azure's limit of deployments per endpoint. */
const MAX_DEPLOYMENTS = 20;
/** Deployments restored at once after a restart. */
const RESTORE_CONCURRENCY = Math.max(2, Math.min(4, availableParallelism()));

const key = (endpoint: string, deployment: string) => `${endpoint}/${deployment}`;

export function deploymentNotFound(endpoint: string, name: string): PierError {
  return new PierError({
    code: "DeploymentNotFound",
    summary: `Deployment '${name}' does not exist in endpoint '${endpoint}'`,
    fix: `List deployments with \`pier deployment list -e ${endpoint}\`.`,
  });
}

/** How loud each instance event is in pier up's log; the rest are debug. */
const EVENT_LEVEL: Partial<Record<EventKind, "info" | "warn">> = {
  Ready: "info",
  ProcessExited: "info",
  StartupTimeout: "warn",
  LoadFailed: "warn",
  OOMKilled: "warn",
  Restarting: "warn",
  CrashLoop: "warn",
  Unready: "warn",
  LivenessFailed: "warn",
};

/** Instance states in which a deployment is not well, and the doctor has something to say. */
const UNWELL: ReadonlySet<string> = new Set(["CrashLoop", "Restarting", "Unready", "Failed"]);

export class Deployments {
  readonly #live = new Map<string, LiveDeployment<Instance>>();
  /** Instances of failed starts that go on loading to be measured; stopped with their deployment or with pier. */
  readonly #lingering = new Map<Instance, string>();
  /** Changes the instance count of deployments whose scale_settings say target_utilization. */
  readonly #autoscaler: Autoscaler;
  /** The warm Python interpreters instances fork from, one per executable. */
  readonly #warm: WarmPythons;

  constructor(
    private readonly home: string,
    private readonly store: EngineStore,
    private readonly registry: Registry,
    private readonly endpoints: Endpoints,
    private readonly requests: RequestSummaries,
    private readonly logger: Logger,
  ) {
    this.#autoscaler = new Autoscaler(() => this.lives(), {
      onChange: (live, { from, to, slots, cpu, why }) => {
        const message = `scaled ${to > from ? "up" : "down"} from ${from} to ${to} instance(s): ${why}`;
        this.store.addEvent(
          { endpoint: live.endpoint, deployment: live.name },
          { kind: "Scaled", data: { from, to, slots, cpu } },
          message,
        );
        this.logger.info(`deployment ${live.endpoint}/${live.name} ${message}`);
      },
      onStartFailed: (live, instance, error) => {
        const e = toPierError(error);
        this.store.addEvent(
          { endpoint: live.endpoint, deployment: live.name, instance: instance.id },
          { kind: "ScaleFailed", data: { instance: instance.id, error: e.toJSON() } },
          `an added instance did not start: ${e.code}: ${e.summary}; the deployment goes on with ${live.instances.length}`,
        );
      },
    });
    this.#autoscaler.start();
    this.#warm = new WarmPythons(home);
  }

  /** The running generation of a deployment, if it has one. */
  live(endpoint: string, name: string): LiveDeployment<Instance> | undefined {
    return this.#live.get(key(endpoint, name));
  }

  /** Every running generation. */
  lives(): LiveDeployment<Instance>[] {
    return [...this.#live.values()];
  }

  #record(endpoint: string, name: string): DeploymentRecord {
    const record = this.store.deployment(endpoint, name);
    if (!record) {
      this.endpoints.record(endpoint);
      throw deploymentNotFound(endpoint, name);
    }
    return record;
  }

  /** A scoring script that needs Azure's identity (read from the file the YAML names). */
  #identityNeeded(spec: DeploymentSpec, specDir: string): PierError | undefined {
    const code = spec.code_configuration;
    if (!code) return undefined;
    const file = join(resolveFromSpec(code.code, specDir), code.scoring_script);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return undefined; // the code snapshot names a missing script, with its own cause
    }
    return scriptNeedsIdentity(spec, code.scoring_script, text);
  }

  /** What must hold before an attempt starts: the endpoint, a model, the name free (or taken, for update), room. */
  #checkApply(spec: DeploymentSpec, mode: ApplyOptions["mode"]): DeploymentRecord | undefined {
    this.endpoints.record(spec.endpoint_name);
    const existing = this.store.deployment(spec.endpoint_name, spec.name);
    if (mode === "create" && existing) {
      throw userError(
        "DeploymentExists",
        `Deployment '${spec.name}' already exists in endpoint '${spec.endpoint_name}'`,
        `Change it with \`pier deployment update -f …\`, or delete it first.`,
      );
    }
    if (mode === "update" && !existing) throw deploymentNotFound(spec.endpoint_name, spec.name);
    if (mode === "create" && this.store.deployments(spec.endpoint_name).length >= MAX_DEPLOYMENTS) {
      throw userError(
        "OutOfQuota",
        `Endpoint '${spec.endpoint_name}' already has ${MAX_DEPLOYMENTS} deployments, Azure's limit`,
        "Delete a deployment you no longer need.",
      );
    }
    memoryLimitBytes(spec);
    return existing;
  }

  /**
   * Creates or updates a deployment and waits for the outcome: resolve the model and code, record
   * the attempt, start a new generation of instances, swap it in. The caller holds the endpoint's lock.
   */
  async apply(loaded: Loaded<DeploymentSpec>, options: ApplyOptions): Promise<DeploymentView> {
    const { spec } = loaded;
    const progress = options.progress ?? (() => {});
    for (const warning of loaded.warnings) progress({ step: "config", message: warning, status: "warning" });
    const existing = this.#checkApply(spec, options.mode);
    const fidelity = fidelityOf(spec, options.fidelity);
    const started = performance.now();
    let inputs: { version: ModelVersion; code: ScriptCode | null };
    try {
      // What this machine cannot run at all is named before any file is read.
      const unrunnable = cannotRunHere(spec) ?? this.#identityNeeded(spec, options.specDir);
      if (unrunnable) throw unrunnable;
      inputs = {
        version: await resolveModel(this.registry, spec, options.specDir, fidelity, progress),
        code: spec.code_configuration ? snapshotCode(this.registry, spec, options.specDir, progress) : null,
      };
    } catch (error) {
      const e = toPierError(error);
      // A new deployment whose model cannot be registered is recorded as Failed with the cause;
      // an update that cannot resolve its model changes nothing.
      if (options.mode === "update" || e.class === "system") throw e;
      const failed = await this.#withEnvironmentEvidence(e, spec, options.specDir);
      this.#recordUnregistered(spec, failed, options.sourceFile ?? null);
      this.#reportFailure(spec, failed.toJSON(), progress, started);
      return this.show(spec.endpoint_name, spec.name);
    }
    const record = this.#recordAttempt(spec, inputs, existing, options.sourceFile ?? null);
    try {
      const live = await startGeneration(record, inputs.version, this.#startContext(fidelity, progress));
      await this.#swapIn(live);
      this.#succeed(record, started, progress);
      if (options.allTraffic) this.endpoints.update(spec.endpoint_name, { traffic: { [spec.name]: 100 } });
    } catch (error) {
      const failure = error instanceof StartFailed ? error : new StartFailed(toPierError(error), []);
      this.#keepMeasuring(record, failure.lingering);
      this.store.setDeploymentState(spec.endpoint_name, spec.name, "Failed", failure.error.toJSON());
      this.#reportFailure(spec, failure.error.toJSON(), progress, started);
    }
    return this.show(spec.endpoint_name, spec.name);
  }

  #startContext(fidelity: Fidelity, progress: ProgressSink): StartContext {
    return {
      home: this.home,
      fidelity,
      registry: this.registry,
      warm: this.#warm,
      progress,
      onEvent:
        (record, live) =>
        ({ instance, event, message }: InstanceEvent) => {
          this.store.addEvent(
            { endpoint: record.endpoint, deployment: record.name, instance },
            event,
            message,
          );
          this.logger[EVENT_LEVEL[event.kind] ?? "debug"](message, { instance, event: event.kind });
          if (event.kind === "Ready") live()?.admission.poke();
        },
      onFinding: (record, finding) =>
        this.store.addEvent(
          { endpoint: record.endpoint, deployment: record.name },
          { kind: "EnvironmentWarning", data: { finding } },
          `${finding.code}: ${finding.message}`,
        ),
    };
  }

  /** Records the attempt (Creating or Updating) with the model version and code it uses. */
  #recordAttempt(
    spec: DeploymentSpec,
    inputs: { version: ModelVersion; code: ScriptCode | null },
    existing: DeploymentRecord | undefined,
    sourceFile: string | null,
  ): DeploymentRecord {
    const state = existing ? "Updating" : "Creating";
    const model = `models:/${inputs.version.name}/${inputs.version.version}`;
    const record: DeploymentRecord = {
      endpoint: spec.endpoint_name,
      name: spec.name,
      spec,
      modelName: inputs.version.name,
      modelVersion: inputs.version.version,
      provisioningState: state,
      error: null,
      code: inputs.code,
      sourceFile,
      createdAt: existing?.createdAt ?? Date.now(),
      updatedAt: Date.now(),
    };
    this.store.upsertDeployment(record);
    this.store.addEvent(
      { endpoint: spec.endpoint_name, deployment: spec.name },
      { kind: state, data: { model } },
      `${state.toLowerCase()} with ${model}`,
    );
    return record;
  }

  /** A new deployment whose model could not be registered: Failed, with no version. */
  #recordUnregistered(spec: DeploymentSpec, error: PierError, sourceFile: string | null): void {
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
      error: error.toJSON(),
      code: null,
      sourceFile,
    });
    this.store.addEvent(
      { endpoint: spec.endpoint_name, deployment: spec.name },
      { kind: "Creating", data: { model: modelPathOf(spec)! } },
      `creating with ${modelPathOf(spec)}`,
    );
  }

  /** Puts a new generation in service and stops the one it replaces. */
  async #swapIn(live: LiveDeployment<Instance>): Promise<void> {
    const previous = this.#live.get(key(live.endpoint, live.name));
    this.#live.set(key(live.endpoint, live.name), live);
    if (previous) await Promise.all(previous.instances.map((i) => i.stop()));
  }

  #succeed(record: DeploymentRecord, started: number, progress: ProgressSink): void {
    const ms = performance.now() - started;
    record.provisioningState = "Succeeded";
    this.store.setDeploymentState(record.endpoint, record.name, "Succeeded");
    this.store.addEvent(
      { endpoint: record.endpoint, deployment: record.name },
      { kind: "Succeeded", data: { ms } },
      `ready in ${ms.toFixed(0)} ms`,
    );
    progress({ step: "done", message: `Succeeded in ${ms.toFixed(0)} ms`, ms, status: "ok" });
    this.logger.info(`deployment ${record.endpoint}/${record.name} Succeeded in ${ms.toFixed(0)} ms`, {
      model: `models:/${record.modelName}/${record.modelVersion}`,
    });
  }

  /** Records a failed attempt as an event and as the last progress line. */
  #reportFailure(spec: DeploymentSpec, error: PierErrorJson, progress: ProgressSink, started: number): void {
    this.store.addEvent(
      { endpoint: spec.endpoint_name, deployment: spec.name },
      { kind: "Failed", data: { error } },
      `${error.code}: ${error.summary}`,
    );
    progress({
      step: "failed",
      message: `${error.code}: ${error.summary}`,
      ms: performance.now() - started,
      status: "error",
    });
    this.logger.warn(`deployment ${spec.endpoint_name}/${spec.name} Failed: ${error.summary}`, {
      code: error.code,
    });
  }

  /** Instances of a failed start that go on loading (to measure the load) stop with the deployment. */
  #keepMeasuring(record: DeploymentRecord, lingering: Instance[]): void {
    for (const i of this.#lingering.keys()) if (!i.measuringLateLoad) this.#lingering.delete(i);
    for (const i of lingering) this.#lingering.set(i, key(record.endpoint, record.name));
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
      const model = await folderFacts(folder);
      await preflightEnvironment(
        { model },
        {
          home: this.home,
          mode: "check",
          preferredPython: spec.environment_variables?.PIER_PYTHON,
          artifactPath: fileInFolder(folder),
        },
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

  async #stop(endpoint: string, name: string): Promise<void> {
    const live = this.#live.get(key(endpoint, name));
    this.#live.delete(key(endpoint, name));
    const lingering = [...this.#lingering].filter(([, k]) => k === key(endpoint, name)).map(([i]) => i);
    for (const i of lingering) this.#lingering.delete(i);
    await Promise.all([...(live?.instances ?? []), ...lingering].map((i) => i.stop()));
  }

  /** Deletes a deployment that has no live or mirrored traffic. The caller holds the endpoint's lock. */
  async delete(endpoint: string, name: string): Promise<{ deleted: string }> {
    const record = this.endpoints.record(endpoint);
    this.#record(endpoint, name);
    const live = record.traffic[name] ?? 0;
    const mirrored = record.mirrorTraffic[name] ?? 0;
    if (live > 0 || mirrored > 0) {
      // Where its traffic can go: the deployment with the most of the rest, else any other one.
      const other =
        Object.entries(record.traffic)
          .filter(([n]) => n !== name)
          .sort((a, b) => b[1] - a[1])[0]?.[0] ??
        this.store
          .deployments(endpoint)
          .map((d) => d.name)
          .find((n) => n !== name);
      throw userError(
        "BadArgument",
        `Deployment '${name}' still receives ${live > 0 ? `${live}% of live traffic` : `${mirrored}% mirrored traffic`}; it cannot be deleted`,
        live > 0
          ? `Move its traffic first: pier endpoint update ${endpoint} --traffic "${other ? `${name}=0 ${other}=100` : `${name}=0`}"${mirrored > 0 ? ` --mirror-traffic "${name}=0"` : ""}.`
          : `Stop its mirror first: pier endpoint update ${endpoint} --mirror-traffic "${name}=0".`,
      );
    }
    this.store.setDeploymentState(endpoint, name, "Deleting");
    await this.#stop(endpoint, name);
    this.store.deleteDeployment(endpoint, name);
    this.store.addEvent(
      { endpoint, deployment: name },
      { kind: "Deleted", data: {} },
      `deployment ${name} deleted`,
    );
    return { deleted: `${endpoint}/${name}` };
  }

  /** Stops every deployment of an endpoint that is being deleted. */
  async stopAll(endpoint: string): Promise<void> {
    for (const d of this.store.deployments(endpoint)) await this.#stop(endpoint, d.name);
  }

  show(endpoint: string, name: string): DeploymentView {
    const record = this.#record(endpoint, name);
    const live = this.#live.get(key(endpoint, name));
    return {
      name: record.name,
      endpoint_name: record.endpoint,
      provisioning_state: record.provisioningState,
      model: `models:/${record.modelName}/${record.modelVersion}`,
      instance_type: record.spec.instance_type,
      instance_count: live?.instances.length ?? record.spec.instance_count,
      ...autoscaleOf(record.spec),
      memory_limit_mib: Math.round(memoryLimitBytes(record.spec) / 2 ** 20),
      request_settings: record.spec.request_settings,
      liveness_probe: record.spec.liveness_probe,
      readiness_probe: record.spec.readiness_probe,
      instances: (live?.instances ?? []).map((i) => ({
        id: i.id,
        state: i.state,
        pid: i.pid,
        port: i.port,
        restarts: i.restarts,
        peak_rss_mib: Math.round(i.peakRssBytes / 2 ** 20),
        ...(i.lastExit ? { last_exit: i.lastExit } : {}),
        ...(i.silentForMs !== undefined ? { out_of_rotation_ms: Math.round(i.silentForMs) } : {}),
      })),
      error: record.error,
      source_file: record.sourceFile,
    };
  }

  /** Whether the doctor has something to say: the deployment Failed, or one of its instances is not well. */
  unwell(view: DeploymentView): boolean {
    return (
      view.provisioning_state === "Failed" ||
      view.instances.some((i) => UNWELL.has(i.state) || i.out_of_rotation_ms !== undefined)
    );
  }

  list(endpoint: string): DeploymentView[] {
    this.endpoints.record(endpoint);
    return this.store.deployments(endpoint).map((d) => this.show(endpoint, d.name));
  }

  names(endpoint: string): string[] {
    this.endpoints.record(endpoint);
    return this.store.deployments(endpoint).map((d) => d.name);
  }

  exists(endpoint: string, name: string): boolean {
    return this.store.deployment(endpoint, name) !== undefined;
  }

  logs(
    endpoint: string,
    name: string,
    container: "inference-server" | "storage-initializer",
    lines: number,
  ): string {
    this.#record(endpoint, name);
    return tailLogs(this.home, endpoint, name, container, lines);
  }

  /** What pier knows about a deployment, for the doctor: its record, findings, events, logs, requests. */
  evidence(endpoint: string, name: string): DeploymentEvidence {
    const record = this.#record(endpoint, name);
    let findings: DeploymentEvidence["findings"] = [];
    let model: ModelLayout | undefined;
    if (record.modelVersion > 0) {
      try {
        const version = this.registry.getVersion(record.modelName, record.modelVersion);
        findings = version.findings;
        const code = version.mlmodel.flavors?.python_function?.code;
        model = {
          uri: `models:/${version.name}/${version.version}`,
          folder: version.sourceKind === "folder" ? basename(version.source) : null,
          files: version.artifacts.map((a) => a.path),
          codeFolder: typeof code === "string" && code !== "" ? code : null,
        };
      } catch {}
    }
    const live = this.#live.get(key(endpoint, name));
    const instances = live?.instances ?? [];
    return {
      ...blankEvidence(record.spec, memoryLimitBytes(record.spec), record.provisioningState),
      error: record.error,
      findings,
      events: latestAttempt(this.store.events(endpoint, name, 1000)),
      logs: instanceLogs(this.home, endpoint, name),
      instances: instances.map((i) => ({
        id: i.id,
        state: i.state,
        restarts: i.restarts,
        peakRssBytes: i.peakRssBytes,
        loadMs: i.loadMs,
      })),
      ...((live && this.requests(live)) ?? NO_REQUESTS),
      lateAnswersMs: instances.flatMap((i) => i.lateAnswersMs.values()),
      ...(model ? { model } : {}),
    };
  }

  /** Brings back every deployment recorded as Succeeded, Creating or Updating. */
  async restore(progress: ProgressSink = () => {}): Promise<void> {
    // A few at a time: each start is mostly waiting (a process, a model load), and a machine of two
    // cores still starts its instances without starving the ones already serving.
    const queue = this.store
      .deployments()
      .filter((record) => record.provisioningState !== "Failed" || mayHaveGone(record));
    const workers = Math.min(queue.length, RESTORE_CONCURRENCY);
    await Promise.all(
      Array.from({ length: workers }, async () => {
        for (let record = queue.shift(); record; record = queue.shift())
          await this.#restoreOne(record, progress);
      }),
    );
  }

  async #restoreOne(record: DeploymentRecord, progress: ProgressSink): Promise<void> {
    const name = `${record.endpoint}/${record.name}`;
    const began = performance.now();
    try {
      const version = this.registry.getVersion(record.modelName, record.modelVersion);
      progress({
        step: "restore",
        message:
          record.provisioningState === "Failed"
            ? `${name}: trying again: it Failed with ${record.error?.code}, which something outside its files (a repaired blob, an installed package, a free machine) may have fixed`
            : `${name}: starting models:/${version.name}/${version.version}`,
      });
      this.store.setDeploymentState(record.endpoint, record.name, "Updating");
      const live = await startGeneration(
        record,
        version,
        this.#startContext(fidelityOf(record.spec, undefined), () => {}),
      );
      this.#live.set(key(record.endpoint, record.name), live);
      this.store.setDeploymentState(record.endpoint, record.name, "Succeeded");
      const ms = Math.round(performance.now() - began);
      progress({ step: "restore", message: `${name}: Succeeded in ${ms} ms`, status: "ok", ms });
    } catch (error) {
      const e = error instanceof StartFailed ? error.error : toPierError(error);
      if (error instanceof StartFailed) this.#keepMeasuring(record, error.lingering);
      this.store.setDeploymentState(record.endpoint, record.name, "Failed", e.toJSON());
      const ms = Math.round(performance.now() - began);
      progress({
        step: "restore",
        message: `${name}: Failed after ${ms} ms: ${e.code}: ${e.summary}`,
        status: "error",
        ms,
      });
    }
  }

  /** Stops every instance: gracefully, then forcefully after the grace period. */
  async shutdown(graceMs: number): Promise<void> {
    await this.#autoscaler.shutdown(graceMs);
    const lives = [...this.#live.values()];
    this.#live.clear();
    const lingering = [...this.#lingering.keys()];
    this.#lingering.clear();
    await Promise.all([
      ...lives.flatMap((r) => r.instances.map((i) => i.stop(graceMs))),
      ...lingering.map((i) => i.stop(graceMs)),
    ]);
    await this.#warm.close();
  }
}
