/** Deployments: created or updated with their progress streamed, shown with the doctor's diagnoses, their logs. */
import { isAbsolute } from "node:path";
import { type DeploymentSpec, type Loaded, parseDeploymentSpec } from "../../config/index.js";
import type { ApplyOptions, Engine, ProgressEvent, ProgressSink } from "../../engine/index.js";
import { userError } from "../../shared/index.js";
import type { DeploymentReport } from "../contract.js";
import { deploymentReport } from "../reports.js";
import { type ApiDeps, type Handlers, text } from "./handler.js";

const LOG_CONTAINERS = ["inference-server", "storage-initializer"] as const;

/** A YAML file's absolute path: what `pier doctor --fix` edits later. */
export const sourceFileOf = (source: string | undefined) =>
  source !== undefined && isAbsolute(source) && /\.ya?ml$/i.test(source) ? { sourceFile: source } : {};

/**
 * Applies a deployment with its progress streamed, and answers its report. The last line of a failure
 * names the cause as the report (and the doctor) do: one code for one failure, not the step's own.
 */
export async function applyReported(
  engine: Engine,
  loaded: Loaded<DeploymentSpec>,
  progress: ProgressSink,
  options: Omit<ApplyOptions, "progress">,
): Promise<DeploymentReport> {
  let failed: ProgressEvent | undefined;
  const view = await engine.applyDeployment(loaded, {
    ...options,
    progress: (event) => {
      if (event.step === "failed") failed = event;
      else progress(event);
    },
  });
  const report = deploymentReport(engine, view);
  if (failed)
    progress({
      ...failed,
      message: report.error ? `${report.error.code}: ${report.error.summary}` : failed.message,
    });
  return report;
}

type Names =
  | "deployments.list"
  | "deployments.spec"
  | "deployments.show"
  | "deployments.delete"
  | "deployments.logs"
  | "deployments.apply";

export function deploymentRoutes({ engine, rollouts }: ApiDeps): Handlers<Names> {
  const { deployments } = engine;
  return {
    "deployments.list": ({ params }) =>
      deployments.list(params.endpoint).map((d) => deploymentReport(engine, d)),
    "deployments.spec": ({ params }) => {
      const view = deployments.show(params.endpoint, params.deployment);
      const record = engine.store.deployment(params.endpoint, params.deployment)!;
      return { spec: record.spec, source_file: view.source_file, model: view.model };
    },
    "deployments.show": ({ params }) =>
      deploymentReport(engine, deployments.show(params.endpoint, params.deployment)),
    "deployments.delete": ({ params }) => {
      rollouts.guard(params.endpoint, params.deployment);
      return engine.deleteDeployment(params.endpoint, params.deployment);
    },
    "deployments.logs": ({ params, query }) => {
      const container = query.get("container") ?? "inference-server";
      if (!LOG_CONTAINERS.includes(container as (typeof LOG_CONTAINERS)[number]))
        throw userError(
          "BadArgument",
          `--container must be inference-server or storage-initializer, got '${container}'`,
          "Pass --container storage-initializer.",
        );
      const lines = Number(query.get("lines") ?? "100");
      return {
        logs: deployments.logs(
          params.endpoint,
          params.deployment,
          container as (typeof LOG_CONTAINERS)[number],
          Number.isFinite(lines) && lines > 0 ? lines : 100,
        ),
      };
    },
    "deployments.apply": async ({ body }, progress) => {
      const loaded = parseDeploymentSpec(body.spec, text(body.source, "deployment"));
      if (body.allTraffic === true) rollouts.guard(loaded.spec.endpoint_name);
      if (engine.deployments.exists(loaded.spec.endpoint_name, loaded.spec.name))
        rollouts.guard(loaded.spec.endpoint_name, loaded.spec.name);
      return applyReported(engine, loaded, progress, {
        specDir: body.specDir ?? process.cwd(),
        allTraffic: body.allTraffic === true,
        mode: body.mode ?? "create",
        ...(body.fidelity !== undefined ? { fidelity: body.fidelity } : {}),
        ...sourceFileOf(body.source),
      });
    },
  };
}
