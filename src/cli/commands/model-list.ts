import { defineCommand } from "../command.js";
import { withRegistry } from "./model-common.js";

export const modelList = defineCommand({
  path: ["model", "list"],
  summary: "List registered models with their versions and aliases",
  options: {},
  async handler(_args, ctx) {
    return withRegistry(ctx, (registry) => registry.listModels());
  },
  render(models, ctx) {
    if (models.length === 0) {
      ctx.out("No registered models. Register one: pier model register DIR --name NAME");
      return;
    }
    for (const m of models) {
      const aliases = Object.entries(m.aliases).map(([alias, v]) => `@${alias}→${v}`);
      ctx.out(
        `${m.name}  latest ${m.latestVersion ?? "-"}  versions ${m.versions.join(",") || "-"}${aliases.length ? `  ${aliases.join(" ")}` : ""}`,
      );
    }
  },
});
