import { defineCommand } from "../command.js";
import { positional, versionNumber, withRegistry } from "./model-common.js";

export const modelAliasSet = defineCommand({
  path: ["model", "alias", "set"],
  summary: "Point an alias (e.g. champion) at a version: models:/NAME@ALIAS",
  positionals: [
    { name: "NAME", description: "registered model name", required: true },
    { name: "ALIAS", description: "alias name", required: true },
    { name: "VERSION", description: "version number", required: true },
  ],
  options: {},
  examples: ["pier model alias set financial-behavior-model champion 3"],
  async handler(args, ctx) {
    const name = positional(args, 0, "NAME", "pier model alias set NAME champion 3");
    const alias = positional(args, 1, "ALIAS", "pier model alias set NAME champion 3");
    const version = versionNumber(positional(args, 2, "VERSION", "pier model alias set NAME champion 3"));
    withRegistry(ctx, (registry) => registry.setAlias(name, alias, version));
    return { name, alias, version, uri: `models:/${name}@${alias}` };
  },
  render(r, ctx) {
    ctx.out(`✔ ${r.uri} → version ${r.version}`);
  },
});
