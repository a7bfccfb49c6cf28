import { defineCommand } from "../command.js";
import { renderFindings } from "../format.js";
import { positional, withRegistry } from "./model-common.js";

export const modelShow = defineCommand({
  path: ["model", "show"],
  summary:
    "Show a registered model version: source, artifacts and hashes, flavors, signature, example, env files, findings",
  positionals: [
    {
      name: "URI",
      description: "models:/NAME/VERSION, models:/NAME/latest or models:/NAME@ALIAS",
      required: true,
    },
  ],
  options: {},
  examples: [
    "pier model show models:/financial-behavior-model/latest",
    "pier model show models:/financial-behavior-model@champion -o json",
  ],
  async handler(args, ctx) {
    const uri = positional(args, 0, "URI", "pier model show models:/NAME/latest");
    return withRegistry(ctx, (registry) => {
      const version = registry.resolveUri(uri);
      return { model: registry.getModel(version.name), version };
    });
  },
  render({ model, version: v }, ctx) {
    ctx.out(
      `models:/${v.name}/${v.version}${v.aliases.length ? ` (${v.aliases.map((a) => `@${a}`).join(" ")})` : ""}`,
    );
    ctx.out(`  created      ${v.createdAt}`);
    ctx.out(`  source       ${v.source}`);
    if (v.description) ctx.out(`  description  ${v.description}`);
    ctx.out(
      `  flavors      ${Object.entries(v.flavors)
        .map(([name, cfg]) => `${name}${cfg.loader_module ? ` (${cfg.loader_module})` : ""}`)
        .join(", ")}`,
    );
    ctx.out(`  size         ${v.sizeBytes} bytes in ${v.artifacts.length} files`);
    for (const a of v.artifacts)
      ctx.out(`    ${a.sha256.slice(0, 16)}…  ${String(a.size).padStart(9)}  ${a.path}`);
    ctx.out(`  signature    ${v.signature ? "" : "(none)"}`);
    if (v.signature?.inputs) ctx.out(`    inputs  ${v.signature.inputs}`);
    if (v.signature?.outputs) ctx.out(`    outputs ${v.signature.outputs}`);
    ctx.out(
      `  input example ${v.inputExample === null ? "(none)" : JSON.stringify(v.inputExample).slice(0, 300)}`,
    );
    ctx.out(`  env files    ${Object.keys(v.envFiles).join(", ") || "(none)"}`);
    ctx.out(`  tags         ${JSON.stringify(v.tags)} (model: ${JSON.stringify(model.tags)})`);
    ctx.out(`  model        versions ${model.versions.join(", ")}; aliases ${JSON.stringify(model.aliases)}`);
    ctx.out(
      `  findings     ${v.findings.length === 0 ? "none" : ""}${v.forced ? "(registered with --force)" : ""}`,
    );
    renderFindings(v.findings, (line) => ctx.out(`    ${line}`));
  },
});
