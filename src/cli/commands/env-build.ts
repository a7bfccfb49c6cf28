import { existsSync } from "node:fs";
import { resolve } from "node:path";
import {
  buildEnvironmentFor,
  type EnvironmentTarget,
  fileInFolder,
  folderFacts,
  readCondaFile,
} from "../../env/index.js";
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
    let target: EnvironmentTarget;
    if (conda !== undefined) {
      if (!existsSync(resolve(ctx.cwd, conda)))
        throw userError(
          "FileNotFound",
          `--conda-file ${resolve(ctx.cwd, conda)} does not exist`,
          "Pass the conda file of the deployment's environment.",
        );
      // A scoring script's model is not read to build its environment: the conda file is all of it.
      const none = {
        name: "conda",
        version: 0,
        flavors: {},
        mlmodel: { flavors: {} },
        envFiles: {},
        artifacts: [],
      };
      target = { model: none, conda: readCondaFile(ctx.cwd, conda) };
    } else {
      const ref = parseModelUri(model!);
      if (ref.kind === "registry") {
        const { version, blobs } = withRegistry(ctx, (registry) => {
          const resolved = registry.resolve(ref);
          return {
            version: resolved,
            blobs: new Map(resolved.artifacts.map((a) => [a.path, registry.store.blobPath(a.sha256)])),
          };
        });
        return buildEnvironmentFor(
          { model: version, ref: model! },
          {
            home,
            preferredPython: args.options.python,
            progress: (line) => ctx.err(`  ${line}\n`),
            artifactPath: (p) => blobs.get(p),
          },
        );
      }
      const folder = resolve(ctx.cwd, ref.path);
      return buildEnvironmentFor(
        { model: await folderFacts(folder), ref: model! },
        {
          home,
          preferredPython: args.options.python,
          progress: (line) => ctx.err(`  ${line}\n`),
          artifactPath: fileInFolder(folder),
        },
      );
    }
    return buildEnvironmentFor(target, {
      home,
      preferredPython: args.options.python,
      progress: (line) => ctx.err(`  ${line}\n`),
    });
  },
  render(e, ctx) {
    renderEnvironment(e, ctx.out);
    ctx.out(`  interpreter: ${e.python}`);
    ctx.out("  deployments whose model (or conda file) has these pins now use it.");
  },
});
