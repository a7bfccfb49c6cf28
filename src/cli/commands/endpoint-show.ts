import type { EndpointView } from "../../engine/index.js";
import { defineCommand } from "../command.js";
import { connect, enc, nameArgument, nameOption, renderEndpoint } from "./api-common.js";

export const endpointShow = defineCommand({
  path: ["endpoint", "show"],
  summary: "Show an endpoint: state, scoring URI, traffic, mirror traffic, deployments",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: nameOption,
  async handler(args, ctx) {
    return connect(ctx).request<EndpointView>(
      "GET",
      `/endpoints/${enc(nameArgument(args, "endpoint", "pier endpoint show fin-behavior"))}`,
    );
  },
  render: renderEndpoint,
});

export const endpointList = defineCommand({
  path: ["endpoint", "list"],
  summary: "List online endpoints",
  options: {},
  async handler(_args, ctx) {
    return connect(ctx).request<EndpointView[]>("GET", "/endpoints");
  },
  render(endpoints, ctx) {
    if (endpoints.length === 0) ctx.out("No endpoints. Create one: pier endpoint create -f endpoint.yml");
    for (const e of endpoints)
      ctx.out(`${e.name}  ${e.provisioning_state}  ${e.scoring_uri}  traffic ${JSON.stringify(e.traffic)}`);
  },
});

export const endpointDelete = defineCommand({
  path: ["endpoint", "delete"],
  summary: "Delete an endpoint and all its deployments",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: nameOption,
  async handler(args, ctx) {
    return connect(ctx).request<{ deleted: string }>(
      "DELETE",
      `/endpoints/${enc(nameArgument(args, "endpoint", "pier endpoint delete fin-behavior"))}`,
    );
  },
  render(result, ctx) {
    ctx.out(`✔ Deleted endpoint ${result.deleted} and its deployments`);
  },
});
