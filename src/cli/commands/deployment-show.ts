import type { DeploymentReport } from "../../api/index.js";
import { defineCommand, intOption, stringOption } from "../command.js";
import {
  connect,
  enc,
  endpointArgument,
  endpointNameOption,
  nameArgument,
  nameOption,
  renderDeployment,
} from "./api-common.js";

export const deploymentShow = defineCommand({
  path: ["deployment", "show"],
  summary: "Show a deployment: state, model, instances (state, restarts, memory), and its error if Failed",
  positionals: [{ name: "NAME", description: "deployment name" }],
  options: { ...endpointNameOption, ...nameOption },
  examples: ["pier deployment show -e fin-behavior -n blue"],
  async handler(args, ctx) {
    const endpoint = endpointArgument(args, "-e fin-behavior");
    return connect(ctx).request<DeploymentReport>(
      "GET",
      `/endpoints/${enc(endpoint)}/deployments/${enc(nameArgument(args, "deployment", "-n blue"))}`,
    );
  },
  render: renderDeployment,
});

export const deploymentList = defineCommand({
  path: ["deployment", "list"],
  summary: "List an endpoint's deployments",
  options: endpointNameOption,
  async handler(args, ctx) {
    return connect(ctx).request<DeploymentReport[]>(
      "GET",
      `/endpoints/${enc(endpointArgument(args, "-e fin-behavior"))}/deployments`,
    );
  },
  render(deployments, ctx) {
    if (deployments.length === 0)
      ctx.out("No deployments. Create one: pier deployment create -f deployment.yml --all-traffic");
    for (const d of deployments)
      ctx.out(
        `${d.name}  ${d.provisioning_state}  ${d.model}  ${d.instances.filter((i) => i.state === "Ready").length}/${d.instance_count} Ready`,
      );
  },
});

export const deploymentDelete = defineCommand({
  path: ["deployment", "delete"],
  summary: "Delete a deployment (refused while it has live or mirrored traffic)",
  positionals: [{ name: "NAME", description: "deployment name" }],
  options: { ...endpointNameOption, ...nameOption },
  async handler(args, ctx) {
    const endpoint = endpointArgument(args, "-e fin-behavior");
    return connect(ctx).request<{ deleted: string }>(
      "DELETE",
      `/endpoints/${enc(endpoint)}/deployments/${enc(nameArgument(args, "deployment", "-n green"))}`,
    );
  },
  render(result, ctx) {
    ctx.out(`✔ Deleted deployment ${result.deleted}`);
  },
});

export const deploymentGetLogs = defineCommand({
  path: ["deployment", "get-logs"],
  summary: "Print the last lines of a deployment's inference-server or storage-initializer log",
  positionals: [{ name: "NAME", description: "deployment name" }],
  options: {
    ...endpointNameOption,
    ...nameOption,
    lines: { type: "string", short: "l", valueName: "N", description: "lines to show (default 100)" },
    container: {
      type: "string",
      valueName: "inference-server|storage-initializer",
      description: "which log (default inference-server)",
    },
  },
  examples: [
    "pier deployment get-logs -e fin-behavior -n blue --lines 50",
    "pier deployment get-logs -e fin-behavior -n blue --container storage-initializer",
  ],
  async handler(args, ctx) {
    const endpoint = endpointArgument(args, "-e fin-behavior");
    const name = nameArgument(args, "deployment", "-n blue");
    const lines = intOption(args, "lines", { min: 1, max: 100_000 }) ?? 100;
    const container = stringOption(args, "container") ?? "inference-server";
    return connect(ctx).request<{ logs: string }>(
      "GET",
      `/endpoints/${enc(endpoint)}/deployments/${enc(name)}/logs?container=${enc(container)}&lines=${lines}`,
    );
  },
  render(result, ctx) {
    ctx.out(result.logs || "(no log lines yet: the container has not started)");
  },
});
