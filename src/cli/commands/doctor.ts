/**
 * `pier doctor`: names what is wrong with a deployment (from everything pier recorded) or, with
 * --model, with a model and deployment file before anything starts; each diagnosis has a code, the
 * evidence and a fix.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  type DeploymentSpec,
  loadDeploymentFile,
  modelPathOf,
  parseDeploymentSpec,
  resolveFromSpec,
} from "../../config/index.js";
import { type Diagnosis, type DoctorReport, diagnosePreflight, doctorReport } from "../../doctor/index.js";
import { fileInFolder, type ModelFacts, memoryLimitBytes, preflightEnvironment } from "../../engine/index.js";
import { validateModelDir } from "../../model/index.js";
import { listModelFiles, parseModelUri } from "../../registry/index.js";
import {
  type Finding,
  type PierErrorJson,
  resolvePierHome,
  toPierError,
  userError,
} from "../../shared/index.js";
import { type CommandContext, defineCommand, type ParsedArgs } from "../command.js";
import { connect, enc, renderDiagnoses } from "./api-common.js";
import { folderFacts, withRegistry } from "./model-common.js";

/** The deployment to check: the file's, with --model in place of its model, or a default one. */
function preflightSpec(args: ParsedArgs, ctx: CommandContext): { spec: DeploymentSpec; dir: string } {
  const file = args.options["deployment-file"];
  const model = args.options.model === undefined ? undefined : String(args.options.model);
  if (file !== undefined) {
    const path = resolve(ctx.cwd, String(file));
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

async function preflight(args: ParsedArgs, ctx: CommandContext): Promise<DoctorReport> {
  const started = performance.now();
  const home = resolvePierHome(process.env, ctx.cwd);
  const { spec, dir } = preflightSpec(args, ctx);
  const modelText = modelPathOf(spec);
  if (!modelText)
    throw userError(
      "MissingArgument",
      "Nothing to check: give --model DIR|URI or a deployment file with a model",
      "pier doctor --model ./model",
    );
  const ref = parseModelUri(modelText);
  const script = spec.code_configuration;
  let facts: ModelFacts | undefined;
  let modelFile: (path: string) => string | undefined = () => undefined;
  let findings: Finding[] = [];
  let modelBytes = 0;
  const checked: string[] = [];
  if (ref.kind === "registry") {
    const { version, blobs } = withRegistry(ctx, (registry) => {
      const resolved = registry.resolve(ref);
      return {
        version: resolved,
        blobs: new Map(resolved.artifacts.map((a) => [a.path, registry.store.blobPath(a.sha256)])),
      };
    });
    modelFile = (path) => blobs.get(path);
    facts = version;
    findings = version.findings;
    modelBytes = version.sizeBytes;
    checked.push(
      `models:/${version.name}/${version.version}: ${version.artifacts.length} files, findings from its registration`,
    );
  } else {
    const folder = resolveFromSpec(ref.path, dir);
    if (script) {
      // A scoring script's model is any folder (Azure's custom_model).
      if (!existsSync(folder))
        throw userError(
          "ModelSourceNotFound",
          `The model folder ${folder} does not exist`,
          "Fix model.path in the deployment file.",
        );
      const files = listModelFiles(folder);
      modelBytes = files.reduce((sum, f) => sum + statSync(join(folder, f)).size, 0);
      facts = {
        name: basename(folder),
        version: 0,
        flavors: {},
        mlmodel: { flavors: {} },
        envFiles: {},
        artifacts: [],
      };
      checked.push(`model folder ${folder}: ${files.length} files (a scoring script's model)`);
    } else {
      const validation = validateModelDir(folder);
      findings = validation.findings;
      if (validation.mlmodel) {
        facts = folderFacts(folder, validation);
        modelFile = fileInFolder(folder);
        modelBytes = facts.artifacts.reduce((sum, a) => sum + a.size, 0);
      }
      checked.push(`MLflow model folder ${folder}: ${findings.length} finding(s)`);
    }
  }
  let scriptText: { name: string; text: string } | undefined;
  let conda: string | null | undefined;
  if (script) {
    const scriptPath = resolve(dir, script.code, script.scoring_script);
    if (!existsSync(scriptPath))
      throw userError(
        "BadArgument",
        `code_configuration names ${scriptPath}, which does not exist`,
        "Fix code_configuration.code or scoring_script.",
      );
    scriptText = { name: script.scoring_script, text: readFileSync(scriptPath, "utf8") };
    const env = spec.environment;
    conda =
      typeof env === "object" && env.conda_file ? readFileSync(resolve(dir, env.conda_file), "utf8") : null;
    checked.push(`scoring script ${scriptPath}${conda ? " and its conda file" : ""}`);
  }
  let environmentError: PierErrorJson | null = null;
  let environmentFindings: Finding[] = [];
  // The environment is checked even when the package has errors: a preflight names every cause at once.
  if (facts) {
    try {
      const result = await preflightEnvironment(
        { model: facts, ...(conda !== undefined ? { conda } : {}) },
        spec.environment_variables?.PIER_PYTHON,
        home,
        modelFile,
      );
      environmentFindings = result.findings;
      checked.push(`environment: ${result.runtime}`);
    } catch (error) {
      environmentError = toPierError(error).toJSON();
      checked.push(`environment: ${environmentError.code}`);
    }
  }
  const memory = memoryLimitBytes(spec);
  checked.push(
    `memory: model files ${(modelBytes / 2 ** 20).toFixed(1)} MiB within ${spec.instance_type}'s ${(memory / 2 ** 20).toFixed(0)} MiB limit`,
  );
  const diagnoses = diagnosePreflight({
    spec,
    memoryLimitBytes: memory,
    findings,
    environmentFindings,
    environmentError,
    modelBytes,
    ...(scriptText ? { script: scriptText } : {}),
  });
  return doctorReport(`preflight of ${modelText}`, diagnoses, checked, started, [
    ...findings,
    ...environmentFindings,
  ]);
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
  options: {
    model: { type: "string", valueName: "DIR|URI", description: "preflight: a model folder or models:/ URI" },
    "deployment-file": {
      type: "string",
      valueName: "F",
      description: "preflight: the deployment YAML to check with it",
    },
  },
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
      `/endpoints/${enc(endpoint)}/doctor${deployment ? `?deployment=${enc(deployment)}` : ""}`,
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
