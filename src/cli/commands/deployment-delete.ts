import { defineCommand } from "../command.js";
import { connect, endpointArgument, endpointNameOption, nameArgument, nameOption } from "./api-common.js";

export const deploymentDelete = defineCommand({
  path: ["deployment", "delete"],
  summary: "Delete a deployment (refused while it has live or mirrored traffic)",
  positionals: [{ name: "NAME", description: "deployment name" }],
  options: { ...endpointNameOption, ...nameOption },
  async handler(args, ctx) {
    const endpoint = endpointArgument(args, "-e fin-behavior");
    return connect(ctx).call("deployments.delete", {
      endpoint,
      deployment: nameArgument(args, "deployment", "-n green"),
    });
  },
  render(result, ctx) {
    ctx.out(`✔ Deleted deployment ${result.deleted}`);
  },
});
