import { defineCommand } from "../command.js";
import { connect, nameArgument, nameOption } from "./api-common.js";

export const endpointDelete = defineCommand({
  path: ["endpoint", "delete"],
  summary: "Delete an endpoint and all its deployments",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: nameOption,
  async handler(args, ctx) {
    return connect(ctx).call("endpoints.delete", {
      endpoint: nameArgument(args, "endpoint", "pier endpoint delete fin-behavior"),
    });
  },
  render(result, ctx) {
    ctx.out(`✔ Deleted endpoint ${result.deleted} and its deployments`);
  },
});
