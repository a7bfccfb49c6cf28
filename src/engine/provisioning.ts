/**
 * The steps that turn a deployment YAML into running instances: resolve (or register) its model,
 * snapshot a scoring script's code, prepare the host and its environment, start the instances and
 * wait until every one is Ready. Each step reports its timing through `progress`.
 */
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import {
  type DeploymentSpec,
  findInstanceType,
  INSTANCE_TYPES,
  modelPathOf,
  parseMemoryQuantity,
  resolveFromSpec,
} from "../config/index.js";
import { type CondaFile, type Fidelity, readCondaFile } from "../env/index.js";
import { checkFolderFiles, interfaceLines, listFolderFiles } from "../model/index.js";
import {
  isCuratedEnvironment,
  type ModelVersion,
  parseEnvironmentRef,
  parseModelUri,
  type Registry,
} from "../registry/index.js";
import { prepareHost, type ScriptCode, type WarmPythons } from "../runtime/index.js";
import { type Finding, findingLine, PierError, toPierError, userError } from "../shared/index.js";
import { Instance, type InstanceEvent } from "./instance.js";
import { LiveDeployment } from "./routing.js";
import type { DeploymentRecord } from "./store.js";

export interface ProgressEvent {
  step: string;
  message: string;
  ms?: number;
  /** ok ✔, warning ⚠, error ✘; info (·) for a step on the way that is neither. */
  status?: "ok" | "warning" | "error" | "info";
}

export type ProgressSink = (event: ProgressEvent) => void;

const FIDELITIES: readonly Fidelity[] = ["cloud", "default", "local"];

/** How close to the cloud's build a deployment's environment must be: the flag, else the YAML, else pier's setting. */
export function fidelityOf(spec: DeploymentSpec, flag: string | undefined): Fidelity {
  const value = flag ?? spec.environment_variables?.PIER_FIDELITY ?? process.env.PIER_FIDELITY ?? "default";
  if (!(FIDELITIES as readonly string[]).includes(value))
    throw userError(
      "BadArgument",
      `PIER_FIDELITY '${value}' is not one of ${FIDELITIES.join(", ")}`,
      "Set environment_variables.PIER_FIDELITY (or --fidelity) to cloud, default or local.",
    );
  return value as Fidelity;
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

/** The deployment's model: a registered version, or its folder registered now (as Azure registers a local path). */
export async function resolveModel(
  registry: Registry,
  spec: DeploymentSpec,
  specDir: string,
  fidelity: Fidelity,
  progress: ProgressSink,
): Promise<ModelVersion> {
  const started = performance.now();
  const model = spec.model!;
  const ref = parseModelUri(modelPathOf(spec)!);
  let version: ModelVersion;
  if (ref.kind === "registry") {
    version = registry.resolve(ref);
  } else {
    const name = typeof model === "object" && model.name ? model.name : `${spec.endpoint_name}-${spec.name}`;
    // The model's type, as Azure's asset says; unstated: a scoring script's model is anything
    // (custom_model), a deployment without one serves an MLflow model.
    const declared = typeof model === "object" ? model.type : undefined;
    const type = declared ?? (spec.code_configuration ? "custom_model" : "mlflow_model");
    const wanted = typeof model === "object" ? model.version : undefined;
    version = await registry.register(resolveFromSpec(ref.path, specDir), {
      name,
      type,
      description: `registered by deployment ${spec.endpoint_name}/${spec.name}`,
      fidelity,
      ...(wanted !== undefined ? { version: wanted } : {}),
    });
  }
  progress({
    step: "model",
    message: `models:/${version.name}/${version.version}${version.label ? ` (version ${version.label})` : ""}: ${version.artifacts.length} files, ${version.sizeBytes} bytes, sha256 recorded${"reused" in version && version.reused ? " (these files were registered already: that version is used)" : ""}`,
    ms: performance.now() - started,
    status: "ok",
  });
  return version;
}

/**
 * The conda file a scoring script's environment gives: inline (environment.conda_file beside the
 * YAML), or the registered environment asset it names (azureml:NAME:VERSION, azureml:NAME@latest).
 * A curated environment (Azure's own image) gives none: the script runs on the interpreter pier chooses.
 */
export function condaOf(
  registry: Registry,
  spec: DeploymentSpec,
  specDir: string,
  progress: ProgressSink,
): CondaFile | null {
  const environment = spec.environment;
  if (typeof environment === "string") {
    const ref = parseEnvironmentRef(environment);
    if (!ref || isCuratedEnvironment(environment)) {
      progress({
        step: "code",
        message: `environment '${environment}' is ${isCuratedEnvironment(environment) ? "one of Azure's curated environments" : "not an environment asset reference"}, whose image pier cannot have: the script runs on the interpreter pier chooses (PIER_PYTHON), with only the model's own pins checked; register an environment with its conda file (pier az ml environment create) to have its pins built`,
        status: "warning",
      });
      return null;
    }
    const asset = registry.environments.resolve(ref, environment);
    return asset.conda;
  }
  if (environment && typeof environment === "object" && environment.conda_file) {
    const condaPath = resolveFromSpec(environment.conda_file, specDir);
    if (!existsSync(condaPath)) {
      throw userError(
        "BadArgument",
        `environment.conda_file '${environment.conda_file}' does not exist (looked at ${condaPath})`,
        "Fix the path in the deployment YAML.",
      );
    }
    return readCondaFile(specDir, environment.conda_file);
  }
  return null;
}

/** Copies a scoring script's code folder into the artifact store (so later edits do not leak in) and reads its conda file. */
export function snapshotCode(
  registry: Registry,
  spec: DeploymentSpec,
  specDir: string,
  progress: ProgressSink,
): ScriptCode {
  const started = performance.now();
  const { code, scoring_script } = spec.code_configuration!;
  const dir = resolveFromSpec(code, specDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw userError(
      "BadArgument",
      `code_configuration.code '${code}' is not a folder (looked in ${dir})`,
      "Point code_configuration.code at the folder that holds the scoring script.",
    );
  }
  const files = listFolderFiles(dir);
  const problems = checkFolderFiles(dir, files, "code");
  if (problems.length > 0)
    throw new PierError({
      code: "ModelValidationFailed",
      summary: `The code folder ${dir} has ${problems.length} file(s) that cannot be what they claim: ${problems[0]!.message}`,
      details: problems.map(findingLine),
      fix: problems[0]!.fix,
      data: { findings: problems },
    });
  if (!files.includes(scoring_script)) {
    throw userError(
      "BadArgument",
      `code_configuration.scoring_script '${scoring_script}' is not in ${dir}`,
      `Use a path relative to the code folder; it holds: ${files.slice(0, 10).join(", ") || "(nothing)"}.`,
    );
  }
  const artifacts = files.map((path) => ({ path, ...registry.store.put(join(dir, path)) }));
  const conda = condaOf(registry, spec, specDir, progress);
  progress({
    step: "code",
    message: `${artifacts.length} files of ${dir} snapshotted (scoring script ${scoring_script})${conda ? ", conda file read" : ""}`,
    ms: performance.now() - started,
    status: "ok",
  });
  return { artifacts, scoringScript: scoring_script, folder: basename(dir), conda };
}

export interface StartContext {
  home: string;
  fidelity: Fidelity;
  registry: Registry;
  /** The warm Python interpreters that Python instances fork from. */
  warm: WarmPythons;
  progress: ProgressSink;
  /** Where each instance's events go. */
  onEvent: (
    record: DeploymentRecord,
    live: () => LiveDeployment<Instance> | undefined,
  ) => (event: InstanceEvent) => void;
  /** Findings of the environment check, recorded as events. */
  onFinding: (record: DeploymentRecord, finding: Finding) => void;
}

/** A start that failed, with the instances that go on loading so their load time can be measured. */
export class StartFailed extends Error {
  constructor(
    readonly error: PierError,
    readonly lingering: Instance[],
  ) {
    super(error.message);
  }
}

/**
 * Prepares the host (and its environment) and starts a new generation of the deployment's
 * instances; resolves when all are Ready, throws StartFailed with the first startup failure.
 */
export async function startGeneration(
  record: DeploymentRecord,
  version: ModelVersion,
  context: StartContext,
): Promise<LiveDeployment<Instance>> {
  const { spec } = record;
  const { progress } = context;
  const preparing = performance.now();
  let prepared: Awaited<ReturnType<typeof prepareHost>>;
  try {
    prepared = await prepareHost(version, spec, record.code, {
      home: context.home,
      fidelity: context.fidelity,
      warm: { pythons: context.warm, memoryLimitBytes: memoryLimitBytes(spec) },
      progress: (message, status = "ok") => progress({ step: "environment", message, status }),
      artifactPath: (path) => {
        const artifact = version.artifacts.find((a) => a.path === path);
        return artifact ? context.registry.store.blobPath(artifact.sha256) : undefined;
      },
    });
  } catch (error) {
    throw new StartFailed(toPierError(error), []);
  }
  const memory = memoryLimitBytes(spec);
  progress({
    step: "environment",
    message: `runtime ${prepared.description}, ${spec.instance_type}: memory limit ${(memory / 2 ** 20).toFixed(0)} MiB per instance`,
    ms: performance.now() - preparing,
    status: "ok",
  });
  for (const finding of prepared.findings) {
    progress({ step: "environment", message: `${finding.code}: ${finding.message}`, status: "warning" });
    context.onFinding(record, finding);
  }
  // The preflight (package validation at registration + this environment check) passed; say what it left.
  const warnings = [...version.findings, ...prepared.findings].filter((f) => f.severity === "warning");
  progress({
    step: "preflight",
    message: `package and environment checked before any instance starts: no errors${warnings.length ? `, ${warnings.length} warning(s) (${[...new Set(warnings.map((w) => w.code))].join(", ")}); \`pier doctor\` explains them` : ""}`,
    status: warnings.length ? "warning" : "ok",
  });
  if (!prepared.rawRequests) {
    const [inputs, outputs] = interfaceLines(prepared.interface, version.name);
    progress({
      step: "preflight",
      message: `the model takes ${inputs!.slice("inputs: ".length)}; it answers ${outputs!.slice("outputs: ".length)}`,
      status: "ok",
    });
  }
  const live = new LiveDeployment<Instance>(record, version, prepared);
  const generation = Date.now().toString(36);
  const onEvent = context.onEvent(record, () => live);
  let made = 0;
  live.newInstance = () => {
    const index = made++;
    return new Instance({
      id: `${record.name}-${generation}-${index}`,
      dir: join(context.home, "instances", record.endpoint, record.name, `${generation}-${index}`),
      layout: prepared.layout,
      materialize: (files, dir) => context.registry.materialize(files, dir),
      command: prepared.command,
      liveness: spec.liveness_probe,
      readiness: spec.readiness_probe,
      memoryLimitBytes: memory,
      maxConcurrent: spec.request_settings.max_concurrent_requests_per_instance,
      onEvent,
    });
  };
  live.instances = Array.from({ length: spec.instance_count }, live.newInstance);
  const started = performance.now();
  const results = await Promise.allSettled(live.instances.map((i) => i.start()));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) {
    // An instance still loading past its deadline is left to finish (and be measured), then stops itself.
    const lingering = live.instances.filter((i) => i.measuringLateLoad);
    await Promise.all(live.instances.filter((i) => !i.measuringLateLoad).map((i) => i.stop(1000)));
    throw new StartFailed(toPierError(failure.reason), lingering);
  }
  const loads = live.instances.map((i) => i.loadMs);
  progress({
    step: "instances",
    message: `${live.instances.length} instance(s) Ready (storage init + process start + model load ${Math.max(...loads).toFixed(0)} ms)`,
    ms: performance.now() - started,
    status: "ok",
  });
  return live;
}
