import { defineCommand } from "../command.js";
import { renderDeployment } from "./api-common.js";
import { applyDeployment, deploymentFileOption, succeeded } from "./deployment-apply.js";

export const deploymentUpdate = defineCommand({
  path: ["deployment", "update"],
  summary: "Update a deployment from YAML; the old instances serve until the new ones are Ready",
  options: deploymentFileOption,
  examples: ["pier deployment update -f blue-deployment.yml"],
  handler: (args, ctx) => applyDeployment(args.options, "update", false, ctx),
  render: renderDeployment,
  exitCode: succeeded,
});
