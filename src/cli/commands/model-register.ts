import { resolve } from "node:path";
import { choiceOption, defineCommand, FIDELITIES, fidelityOption, required } from "../command.js";
import { countBySeverity, renderFindings } from "../format.js";
import { keyValues, positional, withRegistry } from "./model-common.js";

export const modelRegister = defineCommand({
  path: ["model", "register"],
  summary: "Validate an MLflow model folder and store it as the next version of a registered model",
  positionals: [{ name: "DIR", description: "the MLflow model folder", required: true }],
  options: {
    name: { type: "string", valueName: "NAME", description: "registered model name (required)" },
    tag: {
      type: "string",
      valueName: "KEY=VALUE",
      description: "tag on the model (repeatable)",
      multiple: true,
    },
    "version-tag": {
      type: "string",
      valueName: "KEY=VALUE",
      description: "tag on the new version (repeatable)",
      multiple: true,
    },
    description: { type: "string", valueName: "TEXT", description: "description of the new version" },
    force: { type: "boolean", description: "register even when validation finds errors" },
    ...fidelityOption,
  },
  examples: ["pier model register ./model --name financial-behavior-model --tag team=risk"],
  async handler(args, ctx) {
    const dir = resolve(ctx.cwd, positional(args, 0, "DIR", "pier model register ./model --name NAME"));
    const fidelity = choiceOption(args.options.fidelity, "fidelity", FIDELITIES);
    const name = required(args.options.name, "--name", "--name financial-behavior-model");
    return withRegistry(ctx, (registry) =>
      registry.register(dir, {
        name,
        description: args.options.description ?? "",
        tags: keyValues(args.options.tag, "tag"),
        versionTags: keyValues(args.options["version-tag"], "version-tag"),
        force: args.options.force === true,
        ...(fidelity ? { fidelity } : {}),
      }),
    );
  },
  render(version, ctx) {
    renderFindings(
      version.findings.filter((f) => f.severity !== "info" || f.code === "PickleExecutesCode"),
      ctx.out,
    );
    if (version.repaired.length > 0)
      ctx.out(
        `⚠ The store's copy of ${version.repaired.join(", ")} was damaged or missing; replaced with this folder's (versions that share it are whole again)`,
      );
    ctx.out(
      `✔ Registered models:/${version.name}/${version.version} (${version.artifacts.length} files, ${version.sizeBytes} bytes; ${countBySeverity(version.findings)})${version.forced ? " despite validation errors (--force)" : ""}`,
    );
  },
});
