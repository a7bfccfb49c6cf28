import { defineCommand } from "../command.js";
import { positional, withRegistry } from "./model-common.js";

export const modelAliasDelete = defineCommand({
  path: ["model", "alias", "delete"],
  summary: "Remove an alias from a registered model",
  positionals: [
    { name: "NAME", description: "registered model name", required: true },
    { name: "ALIAS", description: "alias name", required: true },
  ],
  options: {},
  async handler(args, ctx) {
    const name = positional(args, 0, "NAME", "pier model alias delete NAME champion");
    const alias = positional(args, 1, "ALIAS", "pier model alias delete NAME champion");
    withRegistry(ctx, (registry) => registry.deleteAlias(name, alias));
    return { name, alias, deleted: true };
  },
  render(r, ctx) {
    ctx.out(`✔ Removed alias ${r.alias} from ${r.name}`);
  },
});
