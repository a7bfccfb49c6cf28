import { defineCommand } from "../command.js";
import { connect, endpointArgument, endpointNameOption } from "./api-common.js";

export const deploymentList = defineCommand({
  path: ["deployment", "list"],
  summary: "List an endpoint's deployments",
  options: endpointNameOption,
  async handler(args, ctx) {
    return connect(ctx).call("deployments.list", { endpoint: endpointArgument(args, "-e fin-behavior") });
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
