import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";

export const endpointList = defineCommand({
  path: ["endpoint", "list"],
  summary: "List online endpoints",
  options: {},
  async handler(_args, ctx) {
    return connect(ctx).call("endpoints.list", {});
  },
  render(endpoints, ctx) {
    if (endpoints.length === 0) ctx.out("No endpoints. Create one: pier endpoint create -f endpoint.yml");
    for (const e of endpoints)
      ctx.out(`${e.name}  ${e.provisioning_state}  ${e.scoring_uri}  traffic ${JSON.stringify(e.traffic)}`);
  },
});
