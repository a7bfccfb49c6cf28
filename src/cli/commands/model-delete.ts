import { defineCommand } from "../command.js";
import { positional, versionNumber, withRegistry } from "./model-common.js";

export const modelDelete = defineCommand({
  path: ["model", "delete"],
  summary: "Delete a registered model, or one version with --version (its aliases go with it)",
  positionals: [{ name: "NAME", description: "registered model name", required: true }],
  options: { version: { type: "string", valueName: "N", description: "delete only this version" } },
  examples: [
    "pier model delete financial-behavior-model --version 2",
    "pier model delete financial-behavior-model",
  ],
  async handler(args, ctx) {
    const name = positional(args, 0, "NAME", "pier model delete NAME --version 2");
    const version = args.options.version;
    return withRegistry(ctx, (registry) =>
      registry.delete(name, version === undefined ? undefined : versionNumber(version)),
    );
  },
  render(result, ctx) {
    ctx.out(
      `✔ Deleted ${result.deleted}${result.blobsRemoved ? ` (${result.blobsRemoved} unreferenced files removed from the store)` : ""}`,
    );
  },
});
