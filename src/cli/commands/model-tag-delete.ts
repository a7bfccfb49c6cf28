import { defineCommand } from "../command.js";
import { positional, versionNumber, versionOption, withRegistry } from "./model-common.js";

export const modelTagDelete = defineCommand({
  path: ["model", "tag", "delete"],
  summary: "Remove a tag from a registered model, or from one version with --version",
  positionals: [
    { name: "NAME", description: "registered model name", required: true },
    { name: "KEY", description: "the tag key", required: true },
  ],
  options: versionOption,
  async handler(args, ctx) {
    const name = positional(args, 0, "NAME", "pier model tag delete NAME key");
    const key = positional(args, 1, "KEY", "pier model tag delete NAME key");
    const version = args.options.version;
    const v = version === undefined ? undefined : versionNumber(version);
    withRegistry(ctx, (registry) => registry.deleteTag(name, key, v));
    return { name, version: v ?? null, key, deleted: true };
  },
  render(r, ctx) {
    ctx.out(`✔ Removed tag ${r.key} from ${r.version === null ? r.name : `models:/${r.name}/${r.version}`}`);
  },
});
