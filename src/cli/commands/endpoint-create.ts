import { resolve } from "node:path";
import { loadEndpointFile, parseEndpointSpec } from "../../config/index.js";
import { defineCommand } from "../command.js";
import { connect, renderEndpoint } from "./api-common.js";

export const endpointCreate = defineCommand({
  path: ["endpoint", "create"],
  summary: "Create an online endpoint from YAML (-f) or flags",
  options: {
    file: {
      type: "string",
      short: "f",
      valueName: "endpoint.yml",
      description: "endpoint YAML (Azure ML CLI v2 fields)",
    },
    name: { type: "string", short: "n", valueName: "NAME", description: "endpoint name (without -f)" },
    "auth-mode": {
      type: "string",
      valueName: "key|aml_token",
      description: "auth mode (without -f; default key)",
    },
  },
  examples: ["pier endpoint create -f endpoint.yml", "pier endpoint create -n fin-behavior --auth-mode key"],
  async handler(args, ctx) {
    const file = args.options.file;
    const source = file ? resolve(ctx.cwd, file) : "command line";
    // Flags given with -f override the file's keys, as az does; never silently dropped.
    const flags = {
      ...(args.options.name !== undefined ? { name: args.options.name } : {}),
      ...(args.options["auth-mode"] !== undefined ? { auth_mode: args.options["auth-mode"] } : {}),
    };
    const document = file
      ? { ...(loadEndpointFile(source).document as Record<string, unknown>), ...flags }
      : { auth_mode: "key", ...flags };
    const loaded = parseEndpointSpec(document, source);
    for (const w of loaded.warnings) ctx.err(`⚠ ${w}\n`);
    return connect(ctx).call("endpoints.create", { body: { spec: loaded.document, source } });
  },
  render(endpoint, ctx) {
    ctx.out("✔ Created");
    renderEndpoint(endpoint, ctx);
  },
});
