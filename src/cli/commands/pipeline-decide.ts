import { userInfo } from "node:os";
import { defineCommand } from "../command.js";
import { connect } from "./api-common.js";
import { exitOf, followRun, renderRun, runNumber } from "./pipeline-common.js";

const decide = (verb: "approve" | "reject") =>
  defineCommand({
    path: ["pipeline", verb],
    summary:
      verb === "approve"
        ? "Approve a run waiting at its approval step: it goes on"
        : "Reject a run waiting at its approval step: it ends Rejected",
    positionals: [{ name: "RUN", description: "the run's number", required: true }],
    options: {
      comment: {
        type: "string",
        valueName: "TEXT",
        description: "why (kept in the record with who and when)",
      },
    },
    examples: [`pier pipeline ${verb} 3 --comment "checked the drift report"`],
    async handler(args, ctx) {
      const id = runNumber(args.positionals[0], verb);
      await connect(ctx).call(verb === "approve" ? "pipeline.approve" : "pipeline.reject", {
        run: id,
        body: { by: userInfo().username, comment: args.options.comment ?? "" },
      });
      return followRun(ctx, id);
    },
    render(run, ctx) {
      renderRun(run, ctx, false);
    },
    exitCode: exitOf,
  });

export const pipelineApprove = decide("approve");
export const pipelineReject = decide("reject");
