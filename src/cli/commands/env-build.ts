import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildEnvironmentFor, folderFacts, type ModelFacts } from "../../env/index.js";
import { parseModelUri } from "../../registry/index.js";
import { userError } from "../../shared/index.js";
import { defineCommand, pierHome } from "../command.js";
import { renderEnvironment } from "../format.js";
import { withRegistry } from "./model-common.js";

export const envBuild = defineCommand({
  path: ["env", "build"],
  summary: "Build the Python environment a deployment will use, ahead of time (once per set of pins)",
  description:
    "Makes a venv on the interpreter the deployment would choose and installs the model's pins (or a scoring script's conda file) with pip; deployments with the same pins reuse it. Packages come from PIER_PIP_FIND_LINKS (a wheel folder, offline), else PIER_PIP_INDEX_URL / PIP_INDEX_URL (default PyPI), checked before pip starts.",
  options: {
    model: { type: "string", valueName: "DIR|URI", description: "an MLflow model folder or models:/ URI" },
    "conda-file": { type: "string", valueName: "F", description: "a scoring script's conda file" },
    python: {
      type: "string",
      valueName: "P",
      description: "the interpreter to build on (the deployment's PIER_PYTHON, if it sets one)",
    },
  },
  examples: [
    "pier env build --model ./model",
    "pier env build --conda-file env/conda.yml --python /usr/bin/python3",
  ],
  async handler(args, ctx) {
    const home = pierHome(ctx);
    const model = args.options.model;
    const conda = args.options["conda-file"];
    if ((model === undefined) === (conda === undefined))
      throw userError(
        "BadOptionValue",
        "Give exactly one of --model and --conda-file",
        "e.g. pier env build --model ./model",
      );
    let target: { model: ModelFacts } | { conda: string };
    if (conda !== undefined) {
      const path = resolve(ctx.cwd, conda);
      if (!existsSync(path))
        throw userError(
          "FileNotFound",
          `--conda-file ${path} does not exist`,
          "Pass the conda file of the deployment's environment.",
        );
      target = { conda: readFileSync(path, "utf8") };
    } else {
      const ref = parseModelUri(model!);
      target = {
        model:
          ref.kind === "registry"
            ? withRegistry(ctx, (registry) => registry.resolve(ref))
            : folderFacts(resolve(ctx.cwd, ref.path)),
      };
    }
    const python = args.options.python;
    return buildEnvironmentFor(target, python, {
      home,
      progress: (line) => ctx.err(`  ${line}\n`),
    });
  },
  render(e, ctx) {
    renderEnvironment(e, ctx.out);
    ctx.out(`  interpreter: ${e.python}`);
    ctx.out("  deployments whose model (or conda file) has these pins now use it.");
  },
});
