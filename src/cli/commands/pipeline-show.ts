import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { pipelineReportHtml } from "../../pipeline/index.js";
import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { renderRun, runNumber } from "./pipeline-common.js";

export const pipelineShow = defineCommand({
  path: ["pipeline", "show"],
  summary: "A run's decision record: steps, inputs and hashes, gate table, approval, registration, rollout",
  positionals: [{ name: "RUN", description: "the run's number", required: true }],
  options: {
    html: {
      type: "string",
      valueName: "FILE.html",
      description: "also write the record as a report with ROC, confusion matrix and importances",
    },
  },
  examples: ["pier pipeline show 3", "pier pipeline show 3 --html run3.html"],
  async handler(args, ctx) {
    const run = await connect(ctx).call("pipeline.show", { run: runNumber(args.positionals[0], "show") });
    if (args.options.html) writeFileSync(resolve(ctx.cwd, args.options.html), pipelineReportHtml(run));
    return run;
  },
  render(run, ctx) {
    renderRun(run, ctx, true);
  },
});
