/**
 * What `deployment create` and `deployment update` (and `pier az ml online-deployment …`) share: the
 * YAML, with the command line's flags over it, sent to pier up, progress streamed back. An update
 * without -f starts from the deployment as pier keeps it (its model as registered).
 */
import { dirname, resolve } from "node:path";
import type { ApiClient, DeploymentReport } from "../../api/index.js";
import { parseDeploymentSpec, readSpecDocument } from "../../config/index.js";
import type { ProgressEvent } from "../../engine/index.js";
import { userError } from "../../shared/index.js";
import { type CommandContext, choiceOption, FIDELITIES, fidelityOption } from "../command.js";
import { type Overrides, overrideOptions, withOverrides } from "../overrides.js";
import { connect, progressLine } from "./api-common.js";

export const deploymentFileOption = {
  file: {
    type: "string",
    short: "f",
    valueName: "deployment.yml",
    description: "deployment YAML (required for create)",
  },
  ...overrideOptions,
  ...fidelityOption,
} as const;

export interface ApplyFlags extends Overrides {
  file?: string | undefined;
  fidelity?: string | undefined;
  /** Return once the deployment is under way, as az's --no-wait. */
  noWait?: boolean;
}

/** The flags of a command's options (deploymentFileOption and --no-wait). */
export function flagsOf(options: {
  file?: string | undefined;
  fidelity?: string | undefined;
  name?: string | undefined;
  "endpoint-name"?: string | undefined;
  set?: string[] | undefined;
  "no-wait"?: boolean | undefined;
}): ApplyFlags {
  return {
    file: options.file,
    fidelity: options.fidelity,
    name: options.name,
    endpointName: options["endpoint-name"],
    set: options.set,
    noWait: options["no-wait"] === true,
  };
}

/** The document to apply: the file (or, for an update, what pier keeps) with the flags over it. */
async function documentFor(
  api: ApiClient,
  flags: ApplyFlags,
  mode: "create" | "update",
  ctx: CommandContext,
): Promise<{ document: Record<string, unknown>; source: string; specDir: string }> {
  if (flags.file) {
    const path = resolve(ctx.cwd, flags.file);
    return { document: withOverrides(readSpecDocument(path), flags), source: path, specDir: dirname(path) };
  }
  if (mode === "create" || !flags.name || !flags.endpointName)
    throw userError(
      "MissingArgument",
      mode === "create"
        ? "--file is required: a deployment is created from its YAML"
        : "An update names its YAML (-f) or the deployment (--name and --endpoint-name)",
      mode === "create"
        ? "Pass -f blue-deployment.yml (with --name or --set to change it)."
        : "Pass -f blue-deployment.yml, or -n blue -e my-endpoint --set instance_count=2.",
    );
  const kept = await api.call("deployments.spec", { endpoint: flags.endpointName, deployment: flags.name });
  if (kept.spec.code_configuration && !kept.source_file)
    throw userError(
      "MissingArgument",
      `${flags.endpointName}/${flags.name} has a scoring script and no YAML file pier knows, so its code folder cannot be found again`,
      "Pass the deployment's YAML with -f (and --set over it).",
    );
  // Its model as registered, so nothing depends on the folder it came from.
  const document = withOverrides({ ...kept.spec, model: kept.model }, { set: flags.set });
  return {
    document,
    source: kept.source_file ?? `${flags.endpointName}/${flags.name}`,
    specDir: kept.source_file ? dirname(kept.source_file) : ctx.cwd,
  };
}

/** Sends the deployment to pier up and prints each step as it happens; resolves to the outcome. */
export async function applyDeployment(
  flags: ApplyFlags,
  mode: "create" | "update",
  allTraffic: boolean,
  ctx: CommandContext,
): Promise<DeploymentReport> {
  const fidelity = choiceOption(flags.fidelity, "fidelity", FIDELITIES);
  const api = connect(ctx);
  const { document, source, specDir } = await documentFor(api, flags, mode, ctx);
  // Checked here first, so a mistake in the file is named before anything is sent.
  const loaded = parseDeploymentSpec(document, source);
  const body = {
    spec: loaded.document,
    source,
    specDir,
    allTraffic,
    mode,
    ...(fidelity ? { fidelity } : {}),
  };
  if (!flags.noWait) return api.stream("deployments.apply", { body }, progressLine(ctx));
  // --no-wait: once pier up has begun (its first step), the deployment goes on without us.
  let begun: () => void = () => {};
  const started = new Promise<void>((resolveStarted) => {
    begun = resolveStarted;
  });
  const detach = new AbortController();
  const applying = api.stream(
    "deployments.apply",
    { body },
    (event: ProgressEvent) => {
      progressLine(ctx)(event);
      begun();
    },
    detach.signal,
  );
  const first = await Promise.race([started.then(() => undefined), applying]);
  if (first) return first;
  applying.catch(() => {}); // its outcome is for `show` to tell
  detach.abort();
  return api.call("deployments.show", { endpoint: loaded.spec.endpoint_name, deployment: loaded.spec.name });
}

export const succeeded = (d: DeploymentReport) =>
  d.provisioning_state === "Succeeded" ||
  d.provisioning_state === "Creating" ||
  d.provisioning_state === "Updating"
    ? 0
    : 1;
