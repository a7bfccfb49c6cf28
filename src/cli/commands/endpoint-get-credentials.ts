import { defineCommand } from "../command.js";
import { connect, nameArgument, nameOption } from "./api-common.js";

export const endpointGetCredentials = defineCommand({
  path: ["endpoint", "get-credentials"],
  summary: "Print an endpoint's keys (auth_mode key) or a fresh token (aml_token)",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: nameOption,
  async handler(args, ctx) {
    return connect(ctx).call("endpoints.credentials", {
      endpoint: nameArgument(args, "endpoint", "pier endpoint get-credentials fin-behavior"),
    });
  },
  render(credentials, ctx) {
    for (const [k, v] of Object.entries(credentials)) ctx.out(`${k}: ${v}`);
  },
});
