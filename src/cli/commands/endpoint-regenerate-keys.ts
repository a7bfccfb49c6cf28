import { userError } from "../../shared/index.js";
import { defineCommand } from "../command.js";
import { connect, nameArgument, nameOption } from "./api-common.js";

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
    const keyType = args.options["key-type"];
    if (keyType !== "primary" && keyType !== "secondary")
      throw userError(
        "BadOptionValue",
        "--key-type must be primary or secondary",
        "Pass --key-type primary or --key-type secondary.",
      );
    return connect(ctx).call("endpoints.regenerateKeys", {
      endpoint: nameArgument(
        args,
        "endpoint",
        "pier endpoint regenerate-keys fin-behavior --key-type primary",
      ),
      body: { keyType },
    });
  },
  render(credentials, ctx) {
    ctx.out("✔ Regenerated");
    for (const [k, v] of Object.entries(credentials)) ctx.out(`${k}: ${v}`);
  },
});
