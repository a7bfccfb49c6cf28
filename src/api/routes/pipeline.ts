/** `pier pipeline`: runs started here, driven by pier up, with their decision records. */
import { userError } from "../../shared/index.js";
import { type ApiDeps, type Handlers, text } from "./handler.js";

type Names =
  | "pipeline.start"
  | "pipeline.list"
  | "pipeline.show"
  | "pipeline.approve"
  | "pipeline.reject"
  | "pipeline.resume";

/** A run's number from the path. */
function runNumber(run: string): number {
  const n = Number(run);
  if (!Number.isInteger(n) || n < 1)
    throw userError(
      "BadArgument",
      `'${run}' is not a run number`,
      "Use the number pier pipeline runs shows.",
    );
  return n;
}

export function pipelineRoutes({ pipelineRuns }: ApiDeps): Handlers<Names> {
  return {
    "pipeline.start": ({ body }) =>
      pipelineRuns.start(
        body.document ?? {},
        text(body.source, "the pipeline"),
        text(body.baseDir, "/"),
        body.force === true,
      ),
    "pipeline.list": () => pipelineRuns.list(),
    "pipeline.show": ({ params }) => pipelineRuns.get(runNumber(params.run)),
    "pipeline.approve": ({ params, body }) =>
      pipelineRuns.decide(
        runNumber(params.run),
        "approved",
        text(body.by, "someone"),
        text(body.comment, ""),
      ),
    "pipeline.reject": ({ params, body }) =>
      pipelineRuns.decide(
        runNumber(params.run),
        "rejected",
        text(body.by, "someone"),
        text(body.comment, ""),
      ),
    "pipeline.resume": ({ params }) => pipelineRuns.resume(runNumber(params.run)),
  };
}
