import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse } from "yaml";
import { userError } from "../../shared/index.js";
import { defineCommand, required } from "../command.js";
import { connect } from "./api-common.js";
import { exitOf, followRun, renderRun } from "./pipeline-common.js";

export const pipelineRun = defineCommand({
  path: ["pipeline", "run"],
  summary:
    "Run a pipeline: data → train → evaluate → gate → (approval) → register → rollout, with a decision record",
  options: {
    file: {
      type: "string",
      short: "f",
      valueName: "pipeline.yml",
      description: "the pipeline file (required)",
    },
    force: { type: "boolean", description: "pass a failed gate (recorded as forced)" },
    "no-wait": { type: "boolean", description: "start it and return its number" },
  },
  examples: ["pier pipeline run -f pipeline.yml", "pier pipeline run -f pipeline.yml --force"],
  async handler(args, ctx) {
    const file = resolve(ctx.cwd, required(args.options.file, "-f", "-f pipeline.yml"));
    let document: unknown;
    try {
      document = parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw userError(
        "BadArgument",
        `${file} cannot be read as YAML (${(error as Error).message.split("\n")[0]})`,
        "Check the path given with -f.",
      );
    }
    const run = await connect(ctx).call("pipeline.start", {
      body: { document, source: file, baseDir: dirname(file), force: args.options.force === true },
    });
    ctx.err(`pipeline ${run.name}: run #${run.id}\n`);
    if (args.options["no-wait"]) return run;
    return followRun(ctx, run.id);
  },
  render(run, ctx) {
    renderRun(run, ctx, true);
    if (run.state === "WaitingApproval")
      ctx.out(
        `  waiting for a decision: pier pipeline approve ${run.id} (or reject ${run.id}) --comment "…"`,
      );
  },
  exitCode: exitOf,
});
