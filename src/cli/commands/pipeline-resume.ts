import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { exitOf, followRun, renderRun, runNumber } from "./pipeline-common.js";

export const pipelineResume = defineCommand({
  path: ["pipeline", "resume"],
  summary: "Resume a Failed or Interrupted run from where it stopped (done steps are found in the cache)",
  positionals: [{ name: "RUN", description: "the run's number", required: true }],
  options: {},
  examples: ["pier pipeline resume 3"],
  async handler(args, ctx) {
    const id = runNumber(args.positionals[0], "resume");
    await connect(ctx).call("pipeline.resume", { run: id });
    return followRun(ctx, id);
  },
  render(run, ctx) {
    renderRun(run, ctx, true);
  },
  exitCode: exitOf,
});
