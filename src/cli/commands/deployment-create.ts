import { defineCommand } from "../command.js";
import { renderDeployment } from "./api-common.js";
import { applyDeployment, deploymentFileOption, flagsOf, succeeded } from "./deployment-apply.js";

export const deploymentCreate = defineCommand({
  path: ["deployment", "create"],
  summary: "Create a deployment from YAML and wait until it is Succeeded or Failed, with each step timed",
  options: {
    ...deploymentFileOption,
    "all-traffic": { type: "boolean", description: "send 100% of the endpoint's traffic here once Ready" },
    "no-wait": {
      type: "boolean",
      description: "return once it has begun (pier deployment show tells the outcome)",
    },
  },
  examples: [
    "pier deployment create -f blue-deployment.yml --all-traffic",
    "pier deployment create -f blue-deployment.yml --name green --set instance_count=2",
  ],
  handler: (args, ctx) =>
    applyDeployment(flagsOf(args.options), "create", args.options["all-traffic"] === true, ctx),
  render: renderDeployment,
  exitCode: succeeded,
});
