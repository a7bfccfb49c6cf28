import { defineCommand } from "../command.js";
import { connect, nameArgument, nameOption, renderEndpoint } from "./api-common.js";

export const endpointShow = defineCommand({
  path: ["endpoint", "show"],
  summary: "Show an endpoint: state, scoring URI, traffic, mirror traffic, deployments",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: nameOption,
  async handler(args, ctx) {
    return connect(ctx).call("endpoints.show", {
      endpoint: nameArgument(args, "endpoint", "pier endpoint show fin-behavior"),
    });
  },
  render: renderEndpoint,
});
