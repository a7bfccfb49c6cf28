/**
 * What the `pier az ml …` commands share: the options every az command accepts (those that name a
 * subscription, a resource group or a workspace change nothing on one machine), a confirmation as az
 * asks it, and the shapes az prints (`provisioning_state`, `scoring_uri`, `location`, …) built from
 * what pier keeps, so a script's `--query` finds what it finds in Azure.
 */
import { parse } from "yaml";
import type { DeploymentReport } from "../../api/index.js";
import type { DeploymentSpec } from "../../config/index.js";
import type { EndpointView } from "../../engine/index.js";
import type { EnvironmentAsset, ModelVersion } from "../../registry/index.js";
import { PierError } from "../../shared/index.js";
import {
  type AnyCommand,
  type CommandContext,
  type CommandDefinition,
  defineCommand,
  type OptionSpecs,
} from "../command.js";

/** The options of every az command: where in Azure (accepted, meaningless here) and how to print. */
const AZ_GLOBAL_OPTIONS = {
  "resource-group": {
    type: "string",
    short: "g",
    valueName: "RG",
    description: "accepted as az takes it; one machine has no resource groups",
  },
  "workspace-name": {
    type: "string",
    short: "w",
    valueName: "WS",
    description: "accepted as az takes it; the workspace is this pier home",
  },
  subscription: { type: "string", valueName: "ID", description: "accepted as az takes it" },
  query: { type: "string", valueName: "JMESPATH", description: "a JMESPath query over the result, as az's" },
  verbose: { type: "boolean", description: "accepted as az takes it" },
  debug: { type: "boolean", description: "accepted as az takes it" },
  "only-show-errors": { type: "boolean", description: "accepted as az takes it" },
} as const;

/** `--local`: az's local endpoints run in Docker; pier's endpoints are all local, so it changes nothing. */
export const LOCAL_OPTION = {
  local: { type: "boolean", description: "accepted: every pier endpoint is local" },
} as const;

/** `--no-wait`: return once the operation has begun. */
export const NO_WAIT_OPTION = {
  "no-wait": { type: "boolean", description: "do not wait for the long-running operation to finish" },
} as const;

/** An az form: az's global options added, printed by az's rules (see cli/az.ts). */
export function defineAz<const O extends OptionSpecs, Result>(
  definition: Omit<CommandDefinition<O, Result>, "render" | "az">,
): AnyCommand {
  return defineCommand({
    ...definition,
    path: ["az", "ml", ...definition.path],
    options: { ...definition.options, ...AZ_GLOBAL_OPTIONS },
    render: () => {},
    az: true,
  });
}

/** az's `--name` (or another option) that must be given. */
export function azRequired(value: string | undefined, option: string): string {
  if (value === undefined || value === "")
    throw new PierError({
      code: "MissingArgument",
      summary: `the following arguments are required: ${option}`,
      fix: `Pass ${option}; \`--help\` shows the command's arguments.`,
    });
  return value;
}

/** az's --endpoint-name, which scripts shorten to --endpoint or -e. */
export const ENDPOINT_OPTION = {
  "endpoint-name": {
    type: "string",
    short: "e",
    valueName: "EP",
    description: "the endpoint (also --endpoint)",
  },
} as const;

/** az's "Are you sure?": --yes answers it; with nobody at a terminal, the command refuses. */
export async function confirmed(yes: boolean | undefined, what: string, ctx: CommandContext): Promise<void> {
  if (yes) return;
  if (!ctx.ask)
    throw new PierError({
      code: "MissingArgument",
      summary: `${what}: unable to prompt for confirmation as no tty is available`,
      fix: "Pass --yes (-y).",
    });
  const answer = await ctx.ask(`${what}\nAre you sure you want to perform this operation? (y/n): `);
  if (!/^y(es)?$/i.test(answer.trim()))
    throw new PierError({
      code: "Cancelled",
      summary: "Operation cancelled.",
      fix: "Pass --yes to go ahead.",
    });
}

/** The ARM-style id az prints: the same shape, naming this machine. */
const LOCAL_WORKSPACE =
  "/subscriptions/local/resourceGroups/local/providers/Microsoft.MachineLearningServices/workspaces/pier";

/** An endpoint as `az ml online-endpoint show` prints it. */
export function azEndpoint(e: EndpointView) {
  return {
    auth_mode: e.auth_mode,
    description: e.description ?? null,
    id: `${LOCAL_WORKSPACE}/onlineEndpoints/${e.name}`,
    identity: { type: "system_assigned" },
    kind: "Managed",
    location: "local",
    mirror_traffic: e.mirror_traffic,
    name: e.name,
    openapi_uri: e.openapi_uri,
    properties: {},
    provisioning_state: e.provisioning_state,
    public_network_access: "enabled",
    scoring_uri: e.scoring_uri,
    tags: e.tags ?? {},
    traffic: e.traffic,
  };
}

/** `models:/NAME/VERSION` as Azure names an asset: `azureml:NAME:VERSION`. */
const assetName = (model: string) => {
  const m = /^models:\/([^/]+)\/(.+)$/.exec(model);
  return m ? `azureml:${m[1]}:${m[2]}` : model;
};

/** A deployment as `az ml online-deployment show` prints it: its YAML's keys with pier's state. */
export function azDeployment(d: DeploymentReport, spec: DeploymentSpec | undefined) {
  const kubernetes = spec?.type === "kubernetes";
  return {
    ...(spec?.app_insights_enabled !== undefined ? { app_insights_enabled: spec.app_insights_enabled } : {}),
    code_configuration: spec?.code_configuration ?? null,
    description: spec?.description ?? null,
    endpoint_name: d.endpoint_name,
    environment: spec?.environment ?? null,
    environment_variables: spec?.environment_variables ?? {},
    id: `${LOCAL_WORKSPACE}/onlineEndpoints/${d.endpoint_name}/deployments/${d.name}`,
    instance_count: d.instance_count,
    instance_type: d.instance_type,
    liveness_probe: d.liveness_probe,
    // A deployment that failed before its model was registered names the model as its YAML does.
    model: /\/0$/.test(d.model) && spec ? spec.model : assetName(d.model),
    name: d.name,
    properties: {},
    provisioning_state: d.provisioning_state,
    readiness_probe: d.readiness_probe,
    request_settings: d.request_settings,
    scale_settings: spec?.scale_settings ?? { type: "default" },
    tags: spec?.tags ?? {},
    type: kubernetes ? "Kubernetes" : "Managed",
    ...(d.error ? { error: { code: d.error.code, message: d.error.summary, fix: d.error.fix } } : {}),
  };
}

/** A model version as `az ml model show` prints it. */
export function azModel(v: ModelVersion) {
  const version = v.label ?? String(v.version);
  return {
    creation_context: { created_at: v.createdAt },
    description: v.description || null,
    flavors: v.type === "mlflow_model" ? v.flavors : null,
    id: `azureml:${LOCAL_WORKSPACE}/models/${v.name}/versions/${version}`,
    name: v.name,
    path: v.source,
    properties: {},
    tags: v.tags,
    type: v.type,
    version,
  };
}

/** An environment asset as `az ml environment show` prints it (its conda file as the object it is). */
export function azEnvironment(e: EnvironmentAsset) {
  let conda: unknown = null;
  if (e.conda) {
    try {
      conda = parse(e.conda.text);
    } catch {
      conda = e.conda.text;
    }
  }
  return {
    ...(e.build ? { build: e.build } : {}),
    conda_file: conda,
    creation_context: { created_at: e.createdAt },
    description: e.description || null,
    id: `azureml:${LOCAL_WORKSPACE}/environments/${e.name}/versions/${e.version}`,
    image: e.image,
    name: e.name,
    os_type: "linux",
    tags: e.tags,
    version: e.version,
  };
}
