/** Reads endpoint/deployment YAML and reports schema problems against the user's file and key. */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { z } from "zod";
import { type Code, PierError, userError } from "../shared/index.js";
import { findInstanceType } from "./instance-types.js";
import {
  type DeploymentSpec,
  deploymentSchema,
  type EndpointSpec,
  endpointSchema,
  SECRET_HEADERS,
  UNHONOURED_DEPLOYMENT_KEYS,
  UNHONOURED_ENDPOINT_KEYS,
} from "./schemas.js";

/** The collections pier writes itself: the model's inputs and outputs, and the HTTP payloads. */
const PAYLOAD_COLLECTIONS = ["model_inputs", "model_outputs", "request", "response"];

export interface Loaded<T> {
  spec: T;
  warnings: string[];
  /** The document as written (what the CLI sends pier up, which checks and fills it in again). */
  document: unknown;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys")
    return `${issue.keys.map((k) => [...issue.path, k].join(".")).join(", ")}: not a known key`;
  if (issue.code === "invalid_value")
    return `${key}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  return `${key}: ${issue.message}`;
}

/** Validates a parsed document; `source` names the file in errors. */
export function checkSpec<T extends z.ZodType>(
  schema: T,
  value: unknown,
  source: string,
  kind: string,
  reference = `the Azure ML CLI v2 ${kind} YAML reference`,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map(formatIssue);
  throw new PierError({
    code: "BadArgument",
    summary: `${source} is not a valid ${kind}: ${lines[0]}`,
    details: lines,
    fix: `Fix the key${lines.length > 1 ? "s" : ""} above in ${source} (see ${reference}).`,
  });
}

/** A YAML file's mapping as written (a FileNotFound or BadArgument naming the file otherwise). */
export function readSpecDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw userError(
      "FileNotFound",
      `Cannot read ${path} (${(error as NodeJS.ErrnoException).code})`,
      "Check the path passed with -f.",
    );
  }
  try {
    const value = parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw userError(
        "BadArgument",
        `${path} must hold a YAML mapping (key: value lines)`,
        "See the Azure ML CLI v2 YAML reference.",
      );
    }
    return value;
  } catch (error) {
    if (error instanceof PierError) throw error;
    throw userError(
      "BadArgument",
      `${path} is not valid YAML: ${(error as Error).message.split("\n")[0]}`,
      "Fix the YAML syntax at the line shown.",
    );
  }
}

function unhonoured(spec: Record<string, unknown>, keys: Record<string, string>, source: string): string[] {
  return Object.entries(keys)
    .filter(([key]) => spec[key] !== undefined)
    .map(([key, why]) => `${source}: '${key}' is accepted but not honoured locally (${why})`);
}

export function parseEndpointSpec(value: unknown, source: string): Loaded<EndpointSpec> {
  const spec = checkSpec(endpointSchema, value, source, "online endpoint");
  const warnings = unhonoured(spec, UNHONOURED_ENDPOINT_KEYS, source);
  if (spec.auth_mode === "aad_token") {
    throw userError(
      "BadArgument",
      `${source}: auth_mode 'aad_token' needs Microsoft Entra ID, which pier cannot verify locally`,
      "Use auth_mode: key (the default) or aml_token.",
    );
  }
  return { spec, warnings, document: value };
}

/**
 * A managed deployment names its instance_type and instance_count; a Kubernetes one may leave them to
 * the cluster (defaultinstancetype, one instance) and may scale on utilization.
 */
function placement(
  parsed: z.infer<typeof deploymentSchema>,
  source: string,
  warnings: string[],
): DeploymentSpec {
  const kubernetes = parsed.type === "kubernetes";
  const missing = (["instance_type", "instance_count"] as const).filter((k) => parsed[k] === undefined);
  if (!kubernetes && missing.length > 0)
    throw userError(
      "BadArgument",
      `${source} is not a valid online deployment: ${missing.join(", ")}: Required (a managed online deployment names its VM size and instance count)`,
      `Add ${missing.map((k) => (k === "instance_type" ? "instance_type: Standard_DS3_v2" : "instance_count: 1")).join(" and ")} to ${source}, or type: kubernetes for a Kubernetes deployment, where they are optional.`,
    );
  const scale = parsed.scale_settings;
  if (scale?.type === "target_utilization" && !kubernetes)
    throw userError(
      "BadArgument",
      `${source}: scale_settings.type target_utilization is for Kubernetes online deployments`,
      "Remove scale_settings (a managed deployment autoscales with Azure Monitor autoscale rules, outside its YAML), or set type: kubernetes.",
    );
  if (kubernetes && parsed.instance_type === undefined)
    warnings.push(
      `${source}: no instance_type: as on an attached cluster, the deployment gets defaultinstancetype (2 CPUs, 2 GiB), unless resources.limits says more`,
    );
  return {
    ...parsed,
    instance_type: parsed.instance_type ?? "defaultinstancetype",
    instance_count: parsed.instance_count ?? (scale?.type === "target_utilization" ? scale.min_instances : 1),
  };
}

/** What is said, not refused: a GPU size runs on this machine's CPU. */
const GPU_NOT_AVAILABLE: Code = "GpuNotAvailable";

function gpuWarnings(spec: DeploymentSpec, source: string): string[] {
  const type = findInstanceType(spec.instance_type);
  const gpus = type?.gpus ?? Number(spec.resources?.limits?.["nvidia.com/gpu"] ?? 0);
  if (!gpus) return [];
  return [
    `${GPU_NOT_AVAILABLE}: ${source}: ${spec.instance_type}${type?.gpuModel ? ` has ${type.gpus} ${type.gpuModel} GPU(s)` : ` asks for ${gpus} GPU(s)`}; pier runs the model on this machine's CPU (a model that needs CUDA fails at startup with its own error)`,
  ];
}

export function parseDeploymentSpec(value: unknown, source: string): Loaded<DeploymentSpec> {
  const parsed = checkSpec(deploymentSchema, value, source, "online deployment");
  const warnings = unhonoured(parsed, UNHONOURED_DEPLOYMENT_KEYS, source);
  const spec = placement(parsed, source, warnings);
  warnings.push(...gpuWarnings(spec, source));
  if (spec.request_settings.max_queue_wait_ms !== undefined) {
    warnings.push(
      `${source}: request_settings.max_queue_wait_ms is deprecated in Azure ML; pier queues up to request_timeout_ms`,
    );
  }
  for (const header of spec.data_collector?.request_logging?.capture_headers ?? [])
    if (SECRET_HEADERS.test(header))
      warnings.push(
        `${source}: data_collector.request_logging.capture_headers: ${header} is not captured (it carries a key or a session)`,
      );
  for (const name of Object.keys(spec.data_collector?.collections ?? {}))
    if (!PAYLOAD_COLLECTIONS.includes(name))
      warnings.push(
        `${source}: data_collector.collections.${name} is a custom collection, written by a scoring script with azureml-ai-monitoring's Collector; pier writes ${PAYLOAD_COLLECTIONS.join(", ")} only`,
      );
  if (spec.liveness_probe.success_threshold !== 1) {
    throw userError(
      "BadArgument",
      `${source}: liveness_probe.success_threshold must be 1`,
      "Remove liveness_probe.success_threshold (Azure fixes it at 1).",
    );
  }
  if (!spec.model && !spec.environment) {
    throw userError(
      "BadArgument",
      `${source}: a deployment needs a model (or a custom container environment)`,
      "Add model: ./model-folder or model: models:/NAME/VERSION.",
    );
  }
  if (spec.code_configuration && !spec.environment) {
    throw userError(
      "BadArgument",
      `${source}: a scoring script (code_configuration) requires an environment`,
      "Add environment: with a conda_file, or remove code_configuration for an MLflow model.",
    );
  }
  const environment = spec.environment;
  if (environment && typeof environment === "object" && !environment.conda_file && !environment.build) {
    // An image alone names nothing pier can read. (A registered environment is resolved at deployment.)
    warnings.push(
      `${source}: environment has no conda_file, which pier cannot read from an image: the model runs in the interpreter pier chooses (PIER_PYTHON) with only the model's own pins checked; give environment.conda_file to have its pins checked and built`,
    );
  }
  if (environment && typeof environment === "object" && environment.image) {
    warnings.push(
      `${source}: environment.image is not run (pier runs no containers); the conda_file and the chosen interpreter make the environment`,
    );
  }
  return { spec, warnings, document: value };
}

export function loadEndpointFile(path: string): Loaded<EndpointSpec> {
  return parseEndpointSpec(readSpecDocument(path), path);
}

export function loadDeploymentFile(path: string): Loaded<DeploymentSpec> {
  return parseDeploymentSpec(readSpecDocument(path), path);
}
