import { userError } from "../../shared/index.js";
import { defineCommand, stringOption } from "../command.js";
import { connect, enc, nameArgument, nameOption } from "./api-common.js";

export const endpointGetCredentials = defineCommand({
  path: ["endpoint", "get-credentials"],
  summary: "Print an endpoint's keys (auth_mode key) or a fresh token (aml_token)",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: nameOption,
  async handler(args, ctx) {
    return connect(ctx).request<Record<string, string | number>>(
      "POST",
      `/endpoints/${enc(nameArgument(args, "endpoint", "pier endpoint get-credentials fin-behavior"))}/credentials`,
    );
  },
  render(credentials, ctx) {
    for (const [k, v] of Object.entries(credentials)) ctx.out(`${k}: ${v}`);
  },
});

export const endpointRegenerateKeys = defineCommand({
  path: ["endpoint", "regenerate-keys"],
  summary: "Replace an endpoint's primary or secondary key (the other keeps working)",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: {
    ...nameOption,
    "key-type": {
      type: "string",
      valueName: "primary|secondary",
      description: "which key to replace (required)",
    },
  },
  examples: ["pier endpoint regenerate-keys fin-behavior --key-type secondary"],
  async handler(args, ctx) {
    const keyType = stringOption(args, "key-type");
    if (keyType !== "primary" && keyType !== "secondary")
      throw userError(
        "BadOptionValue",
        "--key-type must be primary or secondary",
        "Pass --key-type primary or --key-type secondary.",
      );
    return connect(ctx).request<Record<string, string | number>>(
      "POST",
      `/endpoints/${enc(nameArgument(args, "endpoint", "pier endpoint regenerate-keys fin-behavior --key-type primary"))}/regenerate-keys`,
      { keyType },
    );
  },
  render(credentials, ctx) {
    ctx.out("✔ Regenerated");
    for (const [k, v] of Object.entries(credentials)) ctx.out(`${k}: ${v}`);
  },
});
