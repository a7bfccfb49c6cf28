/**
 * `pier az ml online-deployment …`: Azure's CLI forms over pier's deployments. create and update take
 * the YAML with `--name`, `--endpoint-name` and `--set` over it (as `pier deployment create` does),
 * stream each step to stderr as az's progress does, and print the deployment as az prints it.
 */
import type { ApiClient, DeploymentReport } from "../../api/index.js";
import { type CommandContext, intOption } from "../command.js";
import { connect, renderDiagnoses } from "./api-common.js";
import {
  azDeployment,
  azRequired,
  confirmed,
  defineAz,
  ENDPOINT_OPTION,
  LOCAL_OPTION,
  NO_WAIT_OPTION,
} from "./az-common.js";
import { applyDeployment } from "./deployment-apply.js";

const NAME = {
  name: { type: "string", short: "n", valueName: "NAME", description: "the deployment" },
} as const;

const APPLY_OPTIONS = {
  ...NAME,
  ...ENDPOINT_OPTION,
  file: { type: "string", short: "f", valueName: "deployment.yml", description: "the deployment YAML" },
  set: {
    type: "string",
    valueName: "PATH=VALUE",
    description: "set a property of the YAML (several may follow)",
    multiple: true,
  },
  ...LOCAL_OPTION,
  ...NO_WAIT_OPTION,
  "skip-script-validation": {
    type: "boolean",
    description: "accepted; pier checks the script by running it",
  },
  "local-enable-gpu": { type: "boolean", description: "accepted; pier has no GPU to give" },
  "vscode-debug": { type: "boolean", description: "not supported" },
  "package-model": { type: "boolean", description: "accepted; pier always snapshots the model" },
} as const;

/** The deployment with its YAML's keys, as az prints it. */
async function shown(api: ApiClient, d: DeploymentReport) {
  const kept = await api
    .call("deployments.spec", { endpoint: d.endpoint_name, deployment: d.name })
    .catch(() => undefined);
  return azDeployment(d, kept?.spec);
}

/** A create or update that ended Failed says why on stderr (and exits 1), as az's long-running operation does. */
function outcome(d: DeploymentReport, ctx: CommandContext): DeploymentReport {
  if (d.provisioning_state !== "Failed") return d;
  ctx.err(
    `ERROR: deployment ${d.endpoint_name}/${d.name} Failed${d.error ? `: ${d.error.code}: ${d.error.summary}` : ""}\n`,
  );
  if (d.diagnoses?.length) renderDiagnoses(d.diagnoses, (line) => ctx.err(`${line}\n`));
  else if (d.error?.fix) ctx.err(`How to fix: ${d.error.fix}\n`);
  return d;
}

const azDeploymentCreate = defineAz({
  path: ["online-deployment", "create"],
  summary: "Create a deployment from its YAML and wait for it (or --no-wait)",
  options: {
    ...APPLY_OPTIONS,
    "all-traffic": {
      type: "boolean",
      description: "send all of the endpoint's traffic here once it is Ready",
    },
  },
  examples: [
    "pier az ml online-deployment create --name blue --endpoint $ENDPOINT_NAME -f blue-deployment.yml --all-traffic",
  ],
  async handler(args, ctx) {
    const o = args.options;
    const report = await applyDeployment(
      {
        file: azRequired(o.file, "--file/-f"),
        name: o.name,
        endpointName: o["endpoint-name"],
        set: o.set,
        noWait: o["no-wait"] === true,
      },
      "create",
      o["all-traffic"] === true,
      ctx,
    );
    return shown(connect(ctx), outcome(report, ctx));
  },
  exitCode: (d) => (d.provisioning_state === "Failed" ? 1 : 0),
});

const azDeploymentUpdate = defineAz({
  path: ["online-deployment", "update"],
  summary: "Update a deployment: its YAML (-f) or as kept, with --set over it",
  options: APPLY_OPTIONS,
  examples: [
    "pier az ml online-deployment update --name blue --endpoint $ENDPOINT_NAME --set instance_count=2",
    "pier az ml online-deployment update -f blue-deployment.yml",
  ],
  async handler(args, ctx) {
    const o = args.options;
    const report = await applyDeployment(
      {
        file: o.file,
        name: o.name,
        endpointName: o["endpoint-name"],
        set: o.set,
        noWait: o["no-wait"] === true,
      },
      "update",
      false,
      ctx,
    );
    return shown(connect(ctx), outcome(report, ctx));
  },
  exitCode: (d) => (d.provisioning_state === "Failed" ? 1 : 0),
});

const azDeploymentShow = defineAz({
  path: ["online-deployment", "show"],
  summary: "Show a deployment: its YAML's keys and provisioning_state",
  options: { ...NAME, ...ENDPOINT_OPTION, ...LOCAL_OPTION },
  examples: ["pier az ml online-deployment show -n blue -e $ENDPOINT_NAME --query provisioning_state -o tsv"],
  async handler(args, ctx) {
    const api = connect(ctx);
    const d = await api.call("deployments.show", {
      endpoint: azRequired(args.options["endpoint-name"], "--endpoint-name/-e"),
      deployment: azRequired(args.options.name, "--name/-n"),
    });
    return shown(api, d);
  },
});

const azDeploymentList = defineAz({
  path: ["online-deployment", "list"],
  summary: "List an endpoint's deployments",
  options: { ...ENDPOINT_OPTION, ...LOCAL_OPTION },
  async handler(args, ctx) {
    const api = connect(ctx);
    const all = await api.call("deployments.list", {
      endpoint: azRequired(args.options["endpoint-name"], "--endpoint-name/-e"),
    });
    return Promise.all(all.map((d) => shown(api, d)));
  },
});

const azDeploymentDelete = defineAz({
  path: ["online-deployment", "delete"],
  summary: "Delete a deployment (asks, unless --yes)",
  options: {
    ...NAME,
    ...ENDPOINT_OPTION,
    yes: { type: "boolean", short: "y", description: "do not ask for confirmation" },
    ...LOCAL_OPTION,
    ...NO_WAIT_OPTION,
  },
  async handler(args, ctx) {
    const endpoint = azRequired(args.options["endpoint-name"], "--endpoint-name/-e");
    const deployment = azRequired(args.options.name, "--name/-n");
    await confirmed(args.options.yes, `Deployment ${endpoint}/${deployment} will be deleted.`, ctx);
    await connect(ctx).call("deployments.delete", { endpoint, deployment });
    return undefined;
  },
});

const azDeploymentGetLogs = defineAz({
  path: ["online-deployment", "get-logs"],
  summary: "Print a deployment's inference-server (or storage-initializer) log",
  options: {
    ...NAME,
    ...ENDPOINT_OPTION,
    lines: { type: "string", short: "l", valueName: "N", description: "how many lines (default all kept)" },
    container: {
      type: "string",
      short: "c",
      valueName: "inference-server|storage-initializer",
      description: "which container's log",
    },
    ...LOCAL_OPTION,
  },
  examples: ["pier az ml online-deployment get-logs -n blue -e $ENDPOINT_NAME --lines 50"],
  async handler(args, ctx) {
    const lines = intOption(args.options.lines, "lines", { min: 1, max: 100_000 }) ?? 100_000;
    const { logs } = await connect(ctx).call("deployments.logs", {
      endpoint: azRequired(args.options["endpoint-name"], "--endpoint-name/-e"),
      deployment: azRequired(args.options.name, "--name/-n"),
      query: { container: args.options.container ?? "inference-server", lines },
    });
    // Printed as the log is, as az prints it (not as a JSON string).
    ctx.out(logs.trimEnd());
    return undefined;
  },
});

export const AZ_DEPLOYMENT_COMMANDS = [
  azDeploymentCreate,
  azDeploymentUpdate,
  azDeploymentShow,
  azDeploymentList,
  azDeploymentDelete,
  azDeploymentGetLogs,
];
