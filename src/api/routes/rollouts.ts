/**
 * `pier rollout`: start one (creating or updating its deployment first when the request carries its
 * YAML, with the steps streamed), read its status and history, and abort, promote or resume it.
 */
import { parseDeploymentSpec, parseRolloutSpec } from "../../config/index.js";
import { PierError, userError } from "../../shared/index.js";
import { doctorOf } from "../reports.js";
import { applyReported, sourceFileOf } from "./deployments.js";
import { type ApiDeps, type Handlers, text } from "./handler.js";

type Names =
  | "rollouts.start"
  | "rollouts.status"
  | "rollouts.history"
  | "rollouts.abort"
  | "rollouts.promote"
  | "rollouts.resume";

export function rolloutRoutes({ engine, rollouts }: ApiDeps): Handlers<Names> {
  return {
    "rollouts.start": async ({ params, body }, progress) => {
      const endpoint = params.endpoint;
      const spec = parseRolloutSpec(body.rollout ?? {}, {}, text(body.rolloutSource, "the rollout"), "/");
      const stable = rollouts.preflight(endpoint);
      let candidate = body.deployment ?? "";
      let inherited: string[] = [];
      if (body.spec !== undefined) {
        const source = text(body.source, "deployment");
        // Monitoring goes on after the promotion: the stable's data collection, unless the YAML sets one.
        const inheriting = rollouts.inherit(endpoint, body.spec as Record<string, unknown>);
        inherited = inheriting.notes;
        for (const note of inherited) progress({ step: "plan", message: note, status: "warning" });
        const loaded = parseDeploymentSpec(inheriting.document, source);
        if (loaded.spec.endpoint_name !== endpoint)
          throw userError(
            "BadArgument",
            `${text(body.source, "the deployment file")} is for endpoint '${loaded.spec.endpoint_name}', not '${endpoint}'`,
            `Pass -e ${loaded.spec.endpoint_name}, or fix endpoint_name in the file.`,
          );
        if (loaded.spec.name === stable)
          throw userError(
            "RolloutNotApplicable",
            `${stable} is the deployment that serves now: a rollout needs the new model under another name`,
            "Give the deployment file another name (e.g. green) and start the rollout again.",
          );
        candidate = loaded.spec.name;
        const exists = engine.deployments.exists(endpoint, candidate);
        if (exists && (engine.endpoints.show(endpoint).traffic[candidate] ?? 0) > 0)
          throw userError(
            "RolloutNotApplicable",
            `${candidate} already has live traffic`,
            "Roll out a deployment at 0 %.",
          );
        const view = await applyReported(engine, loaded, progress, {
          specDir: body.specDir ?? process.cwd(),
          allTraffic: false,
          mode: exists ? "update" : "create",
          ...(body.fidelity !== undefined ? { fidelity: body.fidelity } : {}),
          ...sourceFileOf(body.source),
        });
        if (view.provisioning_state !== "Succeeded")
          throw new PierError({
            code: "RolloutNotApplicable",
            summary: `${candidate} ${view.provisioning_state}${view.error ? ` (${view.error.code}: ${view.error.summary})` : ""}: no rollout started, no client involved`,
            details: doctorOf(engine, endpoint, candidate).diagnoses.map((d) => `${d.code}: ${d.cause}`),
            fix: view.error?.fix ?? `See why: pier doctor ${endpoint} ${candidate}`,
          });
      }
      if (!candidate)
        throw userError(
          "BadArgument",
          "A rollout needs its new deployment: a deployment file (-f green.yml) or the name of one at 0 % (--deployment green)",
          `Run pier rollout start -e ${endpoint} -f green.yml`,
        );
      return rollouts.start(endpoint, candidate, spec, inherited);
    },
    "rollouts.status": ({ params }) => rollouts.status(params.endpoint),
    "rollouts.history": ({ params }) => rollouts.history(params.endpoint),
    "rollouts.abort": ({ params }) => rollouts.abort(params.endpoint),
    "rollouts.promote": ({ params }) => rollouts.promote(params.endpoint),
    "rollouts.resume": ({ params }) => rollouts.resume(params.endpoint),
  };
}
