/**
 * `pier doctor`: names what is wrong with a deployment (from everything pier recorded) or, with
 * --model, with a model and deployment file before anything starts; each diagnosis has a code, the
 * evidence and a fix.
 */
import { dirname, resolve } from "node:path";
import { type DeploymentSpec, loadDeploymentFile, parseDeploymentSpec } from "../../config/index.js";
import { type Diagnosis, type DoctorReport, diagnosePreflight, doctorReport } from "../../doctor/index.js";
import { preflightDeployment } from "../../engine/index.js";
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
import { withRegistry } from "./model-common.js";

const doctorOptions = {
  model: { type: "string", valueName: "DIR|URI", description: "preflight: a model folder or models:/ URI" },
  "deployment-file": {
    type: "string",
    valueName: "F",
    description: "preflight: the deployment YAML to check with it",
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

async function preflight(args: ParsedArgs<typeof doctorOptions>, ctx: CommandContext): Promise<DoctorReport> {
  const started = performance.now();
  const { spec, dir } = preflightSpec(args, ctx);
  const fidelity = choiceOption(args.options.fidelity, "fidelity", FIDELITIES);
  const evidence = await preflightDeployment(spec, dir, {
    home: pierHome(ctx),
    ...(fidelity ? { fidelity } : {}),
    withRegistry: (fn) => withRegistry(ctx, fn),
  });
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

export const doctor = defineCommand({
  path: ["doctor"],
  summary:
    "Name what is wrong with a deployment, with the evidence and the fix (or check a model before deploying)",
  description:
    "With ENDPOINT [DEPLOYMENT]: reads what pier recorded (state, validation findings, events, exits, probes, logs, request outcomes) and names each cause. With --model (and --deployment-file): checks the package, the environment, the scoring script and memory before anything starts.",
  positionals: [
    { name: "ENDPOINT", description: "the endpoint to examine (default: all)" },
    { name: "DEPLOYMENT", description: "one of its deployments (default: all)" },
  ],
  options: doctorOptions,
  examples: [
    "pier doctor",
    "pier doctor fin-behavior blue",
    "pier doctor --model ./model --deployment-file blue.yml",
  ],
  async handler(args, ctx): Promise<DoctorReport[]> {
    if (args.options.model !== undefined || args.options["deployment-file"] !== undefined)
      return [await preflight(args, ctx)];
    const [endpoint, deployment] = args.positionals;
    // Without a name: every deployment of every endpoint.
    if (!endpoint) return connect(ctx).request<DoctorReport[]>("GET", "/doctor");
    return connect(ctx).request<DoctorReport[]>(
      "GET",
      `/endpoints/${encodeURIComponent(endpoint)}/doctor${deployment ? `?deployment=${encodeURIComponent(deployment)}` : ""}`,
    );
  },
  render(reports, ctx) {
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
  exitCode: (reports) => (reports.every((r) => r.ok) ? 0 : 1),
});
