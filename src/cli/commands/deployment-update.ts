import { defineCommand } from "../command.js";
import { renderDeployment } from "./api-common.js";
import { applyDeployment, deploymentFileOption, flagsOf, succeeded } from "./deployment-apply.js";

export const deploymentUpdate = defineCommand({
  path: ["deployment", "update"],
  summary: "Update a deployment from YAML; the old instances serve until the new ones are Ready",
  options: {
    ...deploymentFileOption,
    "no-wait": {
      type: "boolean",
      description: "return once it has begun (pier deployment show tells the outcome)",
    },
  },
  examples: [
    "pier deployment update -f blue-deployment.yml",
    "pier deployment update -n blue -e fin-behavior --set instance_count=2",
  ],
  handler: (args, ctx) => applyDeployment(flagsOf(args.options), "update", false, ctx),
  render: renderDeployment,
  exitCode: succeeded,
});
