import { resolve } from "node:path";
import { loadEndpointFile } from "../../config/index.js";
import { defineCommand } from "../command.js";
import { connect, nameArgument, renderEndpoint } from "./api-common.js";

export const endpointUpdate = defineCommand({
  path: ["endpoint", "update"],
  summary: 'Change an endpoint: traffic ("blue=90 green=10"), mirror traffic, or its YAML (-f)',
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: {
    name: { type: "string", short: "n", valueName: "NAME", description: "endpoint name" },
    file: { type: "string", short: "f", valueName: "endpoint.yml", description: "endpoint YAML" },
    traffic: {
      type: "string",
      valueName: '"blue=90 green=10"',
      description: "live traffic split (sums to 0 or 100)",
    },
    "mirror-traffic": {
      type: "string",
      valueName: '"green=10"',
      description: "copy a share of live traffic to one deployment (≤ 50%)",
    },
  },
  examples: [
    'pier endpoint update fin-behavior --traffic "blue=90 green=10"',
    'pier endpoint update fin-behavior --mirror-traffic "green=10"',
  ],
  async handler(args, ctx) {
    const file = args.options.file;
    const loaded = file ? loadEndpointFile(resolve(ctx.cwd, file)) : undefined;
    const name =
      loaded?.spec.name ??
      nameArgument(args, "endpoint", 'pier endpoint update fin-behavior --traffic "blue=100"');
    for (const w of loaded?.warnings ?? []) ctx.err(`⚠ ${w}\n`);
    return connect(ctx).call("endpoints.update", {
      endpoint: name,
      body: {
        ...(loaded ? { spec: loaded.document, source: file } : {}),
        ...(args.options.traffic !== undefined ? { traffic: args.options.traffic } : {}),
        ...(args.options["mirror-traffic"] !== undefined
          ? { mirror_traffic: args.options["mirror-traffic"] }
          : {}),
      },
    });
  },
  render(endpoint, ctx) {
    ctx.out("✔ Updated");
    renderEndpoint(endpoint, ctx);
  },
});
