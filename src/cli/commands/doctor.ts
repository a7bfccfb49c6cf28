/**
 * `pier doctor`: names what is wrong with a deployment (from everything pier recorded) or, with
 * --model, with a model and deployment file before anything starts; each diagnosis has a code, the
 * evidence and a fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type DeploymentSpec, loadDeploymentFile, parseDeploymentSpec } from "../../config/index.js";
import { type Diagnosis, type DoctorReport, diagnosePreflight, doctorReport } from "../../doctor/index.js";
import { preflightDeployment } from "../../engine/index.js";
import type { FixRecord } from "../../fix/index.js";
import { userError } from "../../shared/index.js";
import {
  type CommandContext,
  choiceOption,
  defineCommand,
  FIDELITIES,
  fidelityOption,
  type ParsedArgs,
  pierHome,
} from "../command.js";
import { connect, renderDiagnoses } from "./api-common.js";
import { fixDeployment, fixPreflight } from "./doctor-fix.js";
import { withRegistry } from "./model-common.js";

const doctorOptions = {
  model: { type: "string", valueName: "DIR|URI", description: "preflight: a model folder or models:/ URI" },
  "deployment-file": {
    type: "string",
    valueName: "F",
    description: "preflight: the deployment YAML to check with it",
  },
  fix: {
    type: "boolean",
    description:
      "apply the fixes the doctor names to the deployment's own files, apply them again, and prove they worked",
  },
  yes: { type: "boolean", description: "with --fix: write without asking" },
  "dry-run": { type: "boolean", description: "with --fix: print the plan and the diffs only" },
  "request-file": {
    type: "string",
    valueName: "FILE.json",
    description: "with --fix: the smoke request to send once it serves (default: the model's input example)",
  },
  ...fidelityOption,
} as const;

/** The deployment to check: the file's, with --model in place of its model, or a default one. */
function preflightSpec(
  args: ParsedArgs<typeof doctorOptions>,
  ctx: CommandContext,
): { spec: DeploymentSpec; dir: string } {
  const file = args.options["deployment-file"];
  const model = args.options.model;
  if (file !== undefined) {
    const path = resolve(ctx.cwd, file);
    const { spec } = loadDeploymentFile(path);
    return { spec: model ? { ...spec, model } : spec, dir: dirname(path) };
  }
  const { spec } = parseDeploymentSpec(
    {
      name: "preflight",
      endpoint_name: "preflight",
      model,
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
    },
    "--model",
  );
  return { spec, dir: ctx.cwd };
}

/** The preflight evidence of the --model / --deployment-file pair (read again for each round of --fix). */
async function preflightEvidence(args: ParsedArgs<typeof doctorOptions>, ctx: CommandContext) {
  const { spec, dir } = preflightSpec(args, ctx);
  const fidelity = choiceOption(args.options.fidelity, "fidelity", FIDELITIES);
  return preflightDeployment(spec, dir, {
    home: pierHome(ctx),
    ...(fidelity ? { fidelity } : {}),
    withRegistry: (fn) => withRegistry(ctx, fn),
  });
}

async function preflight(args: ParsedArgs<typeof doctorOptions>, ctx: CommandContext): Promise<DoctorReport> {
  const started = performance.now();
  const evidence = await preflightEvidence(args, ctx);
  return doctorReport(
    `preflight of ${evidence.target}`,
    diagnosePreflight(evidence),
    evidence.checked,
    started,
    [
      ...evidence.findings,
      ...evidence.environmentFindings,
      ...(evidence.environmentError?.data?.warnings ?? []),
    ],
  );
}

function readRequestFile(path: string): string {
  if (!existsSync(path))
    throw userError(
      "FileNotFound",
      `--request-file ${path} does not exist`,
      "Pass a JSON file with the request body to send.",
    );
  return readFileSync(path, "utf8");
}

/** --fix: the deployment named (or the preflight's files), fixed round by round. */
async function fix(args: ParsedArgs<typeof doctorOptions>, ctx: CommandContext): Promise<FixRecord> {
  if (!args.options.yes && !args.options["dry-run"] && !ctx.ask)
    throw userError(
      "BadOptionValue",
      "pier doctor --fix asks before it writes a file, and this terminal cannot answer",
      "Pass --yes to write without asking, or --dry-run to see the plan only.",
    );
  const requestFile = args.options["request-file"];
  const options = {
    yes: args.options.yes === true,
    dryRun: args.options["dry-run"] === true,
    ...(requestFile ? { request: readRequestFile(resolve(ctx.cwd, requestFile)) } : {}),
  };
  const file = args.options["deployment-file"];
  if (args.options.model !== undefined || (file !== undefined && !args.positionals[0])) {
    if (!file)
      throw userError(
        "MissingArgument",
        "--fix with --model edits the deployment file beside it: pass --deployment-file",
        "pier doctor --model ./model --deployment-file blue.yml --fix",
      );
    return fixPreflight(
      resolve(ctx.cwd, file),
      () => preflightEvidence(args, ctx),
      diagnosePreflight,
      options,
      ctx,
    );
  }
  const [endpoint, deployment] = args.positionals;
  if (!endpoint || !deployment)
    throw userError(
      "MissingArgument",
      "--fix works on one deployment: name the endpoint and the deployment",
      "pier doctor fin-behavior blue --fix",
    );
  return fixDeployment(endpoint, deployment, file, options, ctx);
}

function renderFix(record: FixRecord, ctx: CommandContext): void {
  if (record.rounds.length === 0) return;
  const served = record.rounds.find((r) => r.outcome === "served");
  if (record.rounds.every((r) => r.outcome === "planned")) {
    ctx.out(
      `Dry run: nothing written. To apply it: pier doctor ${record.endpoint ? record.target.replace("/", " ") : `--deployment-file ${record.deploymentFile}`} --fix`,
    );
    return;
  }
  ctx.out(
    served
      ? `✔ ${record.target}: serving after ${record.rounds.length} round(s)${record.msToServing !== null ? `, ${(record.msToServing / 1000).toFixed(1)} s from the failure` : ""}`
      : `✘ ${record.target}: ${record.rounds.map((r) => `${r.code} ${r.outcome}`).join(", ")}`,
  );
}

export const doctor = defineCommand({
  path: ["doctor"],
  summary:
    "Name what is wrong with a deployment, with the evidence and the fix (or check a model before deploying)",
  description:
    "With ENDPOINT [DEPLOYMENT]: reads what pier recorded (state, validation findings, events, exits, probes, logs, request outcomes) and names each cause. With --model (and --deployment-file): checks the package, the environment, the scoring script and memory before anything starts. With --fix: shows each fix as a diff of the deployment's own files (its YAML, the model's env files, a script's conda file), asks, keeps a copy, writes, applies the deployment again, sends the input example, and undoes a change that did not help; `pier doctor history` lists what was fixed.",
  positionals: [
    { name: "ENDPOINT", description: "the endpoint to examine (default: all)" },
    { name: "DEPLOYMENT", description: "one of its deployments (default: all)" },
  ],
  options: doctorOptions,
  examples: [
    "pier doctor",
    "pier doctor fin-behavior blue",
    "pier doctor --model ./model --deployment-file blue.yml",
    "pier doctor fin-behavior blue --fix --dry-run",
    "pier doctor fin-behavior blue --fix --yes",
  ],
  async handler(args, ctx): Promise<DoctorReport[] | FixRecord> {
    if (args.options.fix) return fix(args, ctx);
    if (args.options["dry-run"] || args.options.yes)
      throw userError(
        "BadOptionValue",
        "--dry-run and --yes go with --fix",
        "pier doctor fin-behavior blue --fix --dry-run",
      );
    if (args.options.model !== undefined || args.options["deployment-file"] !== undefined)
      return [await preflight(args, ctx)];
    const [endpoint, deployment] = args.positionals;
    // Without a name: every deployment of every endpoint.
    if (!endpoint) return connect(ctx).call("doctor.all", {});
    return connect(ctx).call("doctor.endpoint", { endpoint, query: { deployment } });
  },
  render(result, ctx) {
    if (!Array.isArray(result)) return renderFix(result, ctx);
    const reports = result;
    if (reports.length === 0)
      ctx.out("No deployments to examine. Check a model before deploying: pier doctor --model DIR");
    for (const report of reports) {
      ctx.out(`pier doctor: ${report.target} (${report.ms.toFixed(0)} ms)`);
      if (report.ok)
        ctx.out(
          report.warnings.length
            ? `✔ Nothing that stops it; ${report.warnings.length} warning(s):`
            : "✔ Nothing wrong found.",
        );
      else renderDiagnoses(report.diagnoses as Diagnosis[], ctx.out);
      for (const line of report.warnings) ctx.out(`  ⚠ ${line}`);
      ctx.out("Checked:");
      for (const line of report.checked) ctx.out(`  ${line}`);
    }
  },
  exitCode: (result) =>
    Array.isArray(result)
      ? result.every((r) => r.ok)
        ? 0
        : 1
      : result.ok || result.rounds.every((r) => r.outcome === "planned")
        ? 0
        : 1,
});
