import { resolve } from "node:path";
import { choiceOption, defineCommand, FIDELITIES, fidelityOption, required } from "../command.js";

const MODEL_TYPES = ["mlflow_model", "custom_model", "triton_model"] as const;

import { countBySeverity, renderFindings } from "../format.js";
import { keyValues, positional, withRegistry } from "./model-common.js";

export const modelRegister = defineCommand({
  path: ["model", "register"],
  summary:
    "Validate a model (an MLflow folder, or any file or folder as a custom model) and store it as a version",
  description:
    "The model's type decides what is checked, as Azure's model asset says: mlflow_model (a folder with an MLmodel file) is validated as MLflow's; custom_model (any file or folder, loaded by a scoring script) has its files checked; triton_model is a Triton model repository. Without --type: mlflow_model when the folder has an MLmodel file, custom_model otherwise.",
  positionals: [
    { name: "PATH", description: "the model's folder (or, for a custom model, its file)", required: true },
  ],
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
    type: {
      type: "string",
      valueName: "TYPE",
      description: "mlflow_model | custom_model | triton_model (default: from the folder)",
    },
    version: {
      type: "string",
      valueName: "V",
      description: "the version to register as (a number, or a label such as v2); the same files reuse it",
    },
    force: { type: "boolean", description: "register even when validation finds errors" },
    ...fidelityOption,
  },
  examples: [
    "pier model register ./model --name financial-behavior-model --tag team=risk",
    "pier model register ./sklearn_regression_model.pkl --name sklearn-regression --version 1",
  ],
  async handler(args, ctx) {
    const dir = resolve(ctx.cwd, positional(args, 0, "PATH", "pier model register ./model --name NAME"));
    const fidelity = choiceOption(args.options.fidelity, "fidelity", FIDELITIES);
    const type = choiceOption(args.options.type, "type", MODEL_TYPES);
    const name = required(args.options.name, "--name", "--name financial-behavior-model");
    return withRegistry(ctx, (registry) =>
      registry.register(dir, {
        name,
        description: args.options.description ?? "",
        tags: keyValues(args.options.tag, "tag"),
        versionTags: keyValues(args.options["version-tag"], "version-tag"),
        force: args.options.force === true,
        ...(fidelity ? { fidelity } : {}),
        ...(type ? { type } : {}),
        ...(args.options.version !== undefined ? { version: args.options.version } : {}),
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
    if (version.reused) {
      ctx.out(
        `✔ models:/${version.name}/${version.version}${version.label ? ` (version ${version.label})` : ""} holds exactly these files already: nothing new registered`,
      );
      return;
    }
    ctx.out(
      `✔ Registered models:/${version.name}/${version.version}${version.label ? ` (version ${version.label})` : ""} as ${version.type} (${version.artifacts.length} files, ${version.sizeBytes} bytes; ${countBySeverity(version.findings)})${version.forced ? " despite validation errors (--force)" : ""}`,
    );
  },
});
