/**
 * `pier doctor … --fix`: the doctor's actions applied to the deployment's own files, then proved. For a
 * deployment: its YAML (the one it was applied from, or --deployment-file), updated through pier up,
 * then a smoke request with the model's input example. For a preflight (--model, --deployment-file):
 * the same files, then the preflight again.
 */
import { dirname, join, resolve } from "node:path";
import { loadDeploymentFile } from "../../config/index.js";
import type { Diagnosis } from "../../doctor/index.js";
import type { PreflightEvidence, RecordedEvent } from "../../engine/index.js";
import { type FixRecord, type FixSession, recordFix, runFix } from "../../fix/index.js";
import { exampleScoreBody } from "../../model/index.js";
import { userError } from "../../shared/index.js";
import { type CommandContext, pierHome } from "../command.js";
import { connect, progressLine } from "./api-common.js";
import { withRegistry } from "./model-common.js";

export interface FixOptions {
  yes: boolean;
  dryRun: boolean;
  /** The smoke request's body (--request-file); the model's input example otherwise. */
  request?: string;
}

/** Asks before writing, unless --yes; a terminal that cannot answer needs --yes. */
function confirmer(ctx: CommandContext, options: FixOptions): FixSession["confirm"] {
  return async () => {
    if (options.yes || !ctx.ask) return options.yes;
    return /^y(es)?$/i.test((await ctx.ask("Write these changes and apply them? [y/N] ")).trim());
  };
}

/** When the deployment failed: its latest Failed (or unwell) event, else now. */
function failedAt(events: RecordedEvent[]): number {
  const last = [...events]
    .reverse()
    .find((e) => ["Failed", "CrashLoop", "Unready", "LoadFailed"].includes(e.kind));
  return last ? Date.parse(last.at) : Date.now();
}

const output = (ctx: CommandContext) => (line: string) =>
  ctx.output === "json" ? ctx.err(`${line}\n`) : ctx.out(line);

/** Fixes a running deployment. */
export async function fixDeployment(
  endpoint: string,
  deployment: string,
  file: string | undefined,
  options: FixOptions,
  ctx: CommandContext,
): Promise<FixRecord> {
  const api = connect(ctx);
  const view = await api.call("deployments.show", { endpoint, deployment });
  const deploymentFile = file ? resolve(ctx.cwd, file) : view.source_file;
  if (!deploymentFile)
    throw userError(
      "MissingArgument",
      `${endpoint}/${deployment} was not applied from a YAML file pier knows, so there is nothing of yours to edit`,
      `Pass the deployment's YAML: pier doctor ${endpoint} ${deployment} --fix --deployment-file blue.yml`,
    );
  const events = await api.call("endpoints.events", { endpoint, query: { deployment } });
  const failure = failedAt(events);
  const diagnose = async () =>
    (await api.call("doctor.endpoint", { endpoint, query: { deployment } }))[0]?.diagnoses ?? [];
  const session: FixSession = {
    deploymentFile,
    diagnose,
    async apply() {
      const loaded = loadDeploymentFile(deploymentFile);
      const report = await api.stream(
        "deployments.apply",
        {
          body: {
            spec: loaded.document,
            source: deploymentFile,
            specDir: dirname(deploymentFile),
            mode: "update",
          },
        },
        progressLine(ctx),
      );
      return {
        state: report.provisioning_state,
        diagnoses:
          report.provisioning_state === "Succeeded"
            ? await diagnose()
            : (report.diagnoses ?? (await diagnose())),
      };
    },
    async smoke() {
      const now = await api.call("deployments.show", { endpoint, deployment });
      const body =
        options.request ??
        JSON.stringify(
          exampleScoreBody(withRegistry(ctx, (registry) => registry.resolveUri(now.model).inputExample)) ??
            null,
        );
      if (body === "null") return undefined;
      const started = performance.now();
      const response = await api.score({ endpoint, deployment, body });
      const text = response.text;
      return {
        ok: response.status === 200,
        detail: `${options.request ? "the request file" : "the input example"} → ${response.status} in ${(performance.now() - started).toFixed(0)} ms (${text.slice(0, 120)})`,
      };
    },
    confirm: confirmer(ctx, options),
    out: output(ctx),
    backupDir: join(pierHome(ctx), "fixes", `${endpoint}-${deployment}-${Date.now().toString(36)}`),
    dryRun: options.dryRun,
  };
  const { rounds, ok } = await runFix(session);
  const record: FixRecord = {
    at: new Date().toISOString(),
    target: `${endpoint}/${deployment}`,
    endpoint,
    deploymentFile,
    rounds,
    ok,
    msToServing: ok && rounds.some((r) => r.outcome === "served") ? Date.now() - failure : null,
  };
  if (!options.dryRun && rounds.length > 0) recordFix(pierHome(ctx), record);
  return record;
}

/** Fixes the files of a preflight: the deployment file and its model folder, checked again after each round. */
export async function fixPreflight(
  deploymentFile: string,
  check: () => Promise<PreflightEvidence>,
  diagnoseEvidence: (evidence: PreflightEvidence) => Diagnosis[],
  options: FixOptions,
  ctx: CommandContext,
): Promise<FixRecord> {
  const started = Date.now();
  const diagnose = async () => diagnoseEvidence(await check());
  const { rounds, ok } = await runFix({
    deploymentFile,
    diagnose,
    async apply() {
      const diagnoses = await diagnose();
      return { state: diagnoses.length === 0 ? "Succeeded" : "Failed", diagnoses };
    },
    confirm: confirmer(ctx, options),
    out: output(ctx),
    backupDir: join(pierHome(ctx), "fixes", `preflight-${Date.now().toString(36)}`),
    dryRun: options.dryRun,
  });
  const record: FixRecord = {
    at: new Date().toISOString(),
    target: deploymentFile,
    endpoint: null,
    deploymentFile,
    rounds,
    ok,
    msToServing: ok ? Date.now() - started : null,
  };
  if (!options.dryRun && rounds.length > 0) recordFix(pierHome(ctx), record);
  return record;
}
