import { defineCommand } from "../command.js";
import {
  connect,
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
    return connect(ctx).call("deployments.show", {
      endpoint,
      deployment: nameArgument(args, "deployment", "-n blue"),
    });
  },
  render: renderDeployment,
});
