/** `pier env build|list|show`: Python environments built ahead of deployments, keyed by their pins. */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  buildEnvironmentFor,
  type EnvironmentRecord,
  environmentDir,
  folderFacts,
  listEnvironments,
  type ModelFacts,
} from "../../env/index.js";
import { parseModelUri } from "../../registry/index.js";
import { resolvePierHome, userError } from "../../shared/index.js";
import { defineCommand } from "../command.js";
import { positional, withRegistry } from "./model-common.js";

function renderRecord(e: EnvironmentRecord, out: (text: string) => void): void {
  out(
    `${e.hash}  ${e.state === "ready" ? "✔ ready" : `✘ failed (${e.error?.code})`}  Python ${e.pythonVersion} on ${e.basePython}  ${e.requirements.length} pins  built ${e.builtAt} in ${(e.durationMs / 1000).toFixed(1)} s`,
  );
}

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
    const home = resolvePierHome(process.env, ctx.cwd);
    const model = args.options.model === undefined ? undefined : String(args.options.model);
    const conda = args.options["conda-file"] === undefined ? undefined : String(args.options["conda-file"]);
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
    const python = args.options.python === undefined ? undefined : String(args.options.python);
    return buildEnvironmentFor(target, python, {
      home,
      progress: (line) => ctx.err(`  ${line}\n`),
    });
  },
  render(e, ctx) {
    renderRecord(e, ctx.out);
    ctx.out(`  interpreter: ${e.python}`);
    ctx.out("  deployments whose model (or conda file) has these pins now use it.");
  },
});

export const envList = defineCommand({
  path: ["env", "list"],
  summary: "List the Python environments pier has built",
  options: {},
  async handler(_args, ctx) {
    return listEnvironments(resolvePierHome(process.env, ctx.cwd));
  },
  render(envs, ctx) {
    if (envs.length === 0) {
      ctx.out(
        "No environments built. Deployments build one when the interpreter lacks a package; or: pier env build --model DIR",
      );
      return;
    }
    for (const e of envs) renderRecord(e, ctx.out);
  },
});

export const envShow = defineCommand({
  path: ["env", "show"],
  summary: "Show one environment: its pins, its interpreter and its build log",
  positionals: [
    { name: "HASH", description: "the environment's hash (or its first 4+ characters)", required: true },
  ],
  options: {
    lines: { type: "string", valueName: "N", description: "lines of the build log to show (default 40)" },
  },
  async handler(args, ctx) {
    const dir = environmentDir(
      resolvePierHome(process.env, ctx.cwd),
      positional(args, 0, "HASH", "pier env show 3f2a"),
    );
    const record = JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as EnvironmentRecord;
    const lines = Number(args.options.lines ?? 40);
    const log = existsSync(join(dir, "build.log"))
      ? readFileSync(join(dir, "build.log"), "utf8").split("\n")
      : [];
    return {
      ...record,
      log: join(dir, "build.log"),
      logTail: log.filter(Boolean).slice(-(Number.isFinite(lines) && lines > 0 ? lines : 40)),
    };
  },
  render(e, ctx) {
    renderRecord(e, ctx.out);
    if (e.error) ctx.out(`  ✘ ${e.error.code}: ${e.error.summary}`);
    ctx.out(`  interpreter: ${e.python}`);
    ctx.out(`  packages from: ${e.source}`);
    ctx.out(`  pins: ${e.requirements.join(", ")}`);
    ctx.out(`  build log (${e.log}):`);
    for (const line of e.logTail) ctx.out(`    ${line}`);
  },
});
