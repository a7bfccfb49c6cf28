/**
 * `pier export azureml`: an endpoint and its deployments as Azure ML CLI v2 YAML, with the model, the
 * code and the environment beside them, the traffic as `az ml` commands, and a README that gives the
 * commands in order, explains every value pier chose and lists what was not carried over.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, normalize } from "node:path";
import { stringify } from "yaml";
import { type DataCollectorSpec, type DeploymentSpec, findInstanceType } from "../config/index.js";
import { exampleScoreBody } from "../model/index.js";
import { PIER_VERSION } from "../shared/index.js";
import {
  chooseInstanceType,
  chooseProbes,
  chooseRequestSettings,
  type ExportDeployment,
  type ExportSource,
  measured,
  modelKind,
  pierOnlyVariables,
  pinConda,
  ranVersions,
  unpinnedPackages,
} from "./facts.js";
import { type CheckFinding, checkAzureDocument } from "./validate.js";

/** The image a scoring script's environment builds on when the deployment named none. */
const DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest";

export interface ExportNote {
  deployment: string | null;
  what: string;
  why: string;
}

export interface ExportResult {
  target: "azureml" | "kserve";
  dir: string;
  files: string[];
  chosen: ExportNote[];
  notCarried: ExportNote[];
  findings: CheckFinding[];
}

/** The README's account of an export: each value pier chose and why, and what it could not carry over. */
export function notesSection(chosen: ExportNote[], notCarried: ExportNote[]): string[] {
  const who = (c: ExportNote) => (c.deployment ? `**${c.deployment}** ` : "");
  return [
    "## What pier chose, and why",
    "",
    ...chosen.map((c) => `- ${who(c)}${c.what}: ${c.why}`),
    "",
    "## Not carried over",
    "",
    ...notCarried.map((c) => `- ${who(c)}\`${c.what}\`: ${c.why}`),
    "",
  ];
}

/** A file name inside the export that cannot leave its folder. */
function inside(path: string): string {
  const clean = normalize(path)
    .replace(/^(\.\.(\/|$))+/, "")
    .replace(/^\/+/, "");
  return clean || "file";
}

/** data_collector as Azure writes it: rolling_rate capitalized, enabled as 'True'/'False'. */
function azureCollector(dc: DataCollectorSpec): Record<string, unknown> {
  return {
    sampling_rate: dc.sampling_rate,
    rolling_rate: dc.rolling_rate[0]!.toUpperCase() + dc.rolling_rate.slice(1),
    ...(dc.request_logging ? { request_logging: dc.request_logging } : {}),
    collections: Object.fromEntries(
      Object.entries(dc.collections).map(([name, c]) => [
        name,
        {
          enabled: c.enabled ? "True" : "False",
          ...(c.sampling_rate !== undefined ? { sampling_rate: c.sampling_rate } : {}),
          ...(c.client_id ? { client_id: c.client_id } : {}),
          ...(c.data ? { data: c.data } : {}),
        },
      ]),
    ),
  };
}

function deploymentDocument(
  source: ExportSource,
  d: ExportDeployment,
  dir: string,
  chosen: ExportNote[],
  notCarried: ExportNote[],
  files: string[],
): Record<string, unknown> {
  const spec: DeploymentSpec = d.spec;
  const m = measured(d.evidence);
  const kind = modelKind(d);
  const folder = d.name;
  // The model, as the files pier verified when it registered them.
  const modelDir = join(dir, folder, "model");
  source.materialize(d.model.artifacts, modelDir);
  files.push(`${folder}/model/ (${d.model.artifacts.length} files)`);
  const instanceType = chooseInstanceType(spec, m);
  const probes = chooseProbes(spec, m);
  const requests = chooseRequestSettings(spec, m);
  chosen.push(
    { deployment: d.name, what: `instance_type ${instanceType.value}`, why: instanceType.why },
    {
      deployment: d.name,
      what: `liveness/readiness initial_delay ${probes.value.liveness.initial_delay} s`,
      why: probes.why,
    },
    {
      deployment: d.name,
      what: `request_settings ${requests.value.request_timeout_ms} ms, ${requests.value.max_concurrent_requests_per_instance} per instance`,
      why: requests.why,
    },
    {
      deployment: d.name,
      what: `model ./${folder}/model (${kind === "script" ? "custom_model" : "mlflow_model"})`,
      why: `models:/${d.model.name}/${d.model.version} as registered here (every file's sha256 checked as it was written); Azure uploads the folder at create`,
    },
  );
  const variables = { ...(spec.environment_variables ?? {}) };
  for (const name of pierOnlyVariables(spec)) {
    delete variables[name];
    notCarried.push({
      deployment: d.name,
      what: `environment_variables.${name}`,
      why: "read by pier only (fault injection or pier's own settings)",
    });
  }
  if (spec.request_settings.max_queue_wait_ms !== undefined)
    notCarried.push({
      deployment: d.name,
      what: "request_settings.max_queue_wait_ms",
      why: "deprecated by Azure ML",
    });
  const doc: Record<string, unknown> = {
    $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
    name: d.name,
    endpoint_name: source.endpoint.name,
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.tags ? { tags: spec.tags } : {}),
    model: { path: `./${folder}/model`, type: kind === "script" ? "custom_model" : "mlflow_model" },
  };
  if (d.code) {
    const codeDir = join(dir, folder, "code");
    source.materialize(d.code.files, codeDir);
    files.push(`${folder}/code/ (${d.code.files.length} files)`);
    doc.code_configuration = { code: `./${folder}/code`, scoring_script: d.code.scoringScript };
    const declared = typeof spec.environment === "object" ? spec.environment : undefined;
    const image = declared?.image ?? DEFAULT_IMAGE;
    if (!declared?.image)
      chosen.push({
        deployment: d.name,
        what: `environment image ${image}`,
        why: "the deployment named none; Azure ML's CPU inference base image with conda",
      });
    const environment: Record<string, unknown> = { image };
    if (d.code.conda) {
      const name = basename(d.code.conda.file);
      const envDir = join(dir, folder, "environment");
      mkdirSync(envDir, { recursive: true });
      // Packages left unpinned get the versions the deployment ran with here, so Azure builds what was tested.
      const loose = unpinnedPackages(d.code.conda.text, name);
      const ran = ranVersions(d.evidence, loose);
      const pinned = ran ? Object.entries(ran.versions) : [];
      writeFileSync(join(envDir, name), ran ? pinConda(d.code.conda.text, ran.versions) : d.code.conda.text);
      if (ran && pinned.length)
        chosen.push({
          deployment: d.name,
          what: `pins ${pinned.map(([n, v]) => `${n}==${v}`).join(", ")}`,
          why: `${name} left them unpinned; these are the versions ${ran.python} ran here`,
        });
      const unresolved = loose.filter((n) => !ran?.versions[n]);
      if (unresolved.length)
        notCarried.push({
          deployment: d.name,
          what: `exact versions of ${unresolved.join(", ")}`,
          why: `${name} leaves them unpinned and they were not installed where the deployment ran: Azure's image build takes their newest release; pin them (==X.Y.Z) to choose`,
        });
      for (const [include, text] of Object.entries(d.code.conda.includes ?? {})) {
        const target = join(envDir, inside(include));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
      environment.conda_file = `./${folder}/environment/${name}`;
      files.push(`${folder}/environment/${name}`);
      chosen.push({
        deployment: d.name,
        what: `environment conda_file ./${folder}/environment/${name}`,
        why: "the conda file this deployment was built and checked with here (its pins resolved; doctor --fix edits, if any, included)",
      });
    }
    doc.environment = environment;
  } else if (spec.environment)
    notCarried.push({
      deployment: d.name,
      what: "environment",
      why: "an MLflow model deploys without one on Azure (no-code): Azure builds it from the model's own conda.yaml",
    });
  // Azure's inference server answers one request per worker process; pier's hosts score concurrent
  // requests together. Workers to match the slots, up to the instance's vCPUs.
  const slots = requests.value.max_concurrent_requests_per_instance;
  if (slots > 1 && variables.WORKER_COUNT === undefined) {
    const vcpus = findInstanceType(instanceType.value)?.vcpus ?? 1;
    variables.WORKER_COUNT = String(Math.min(slots, vcpus));
    chosen.push({
      deployment: d.name,
      what: `environment_variables.WORKER_COUNT ${variables.WORKER_COUNT}`,
      why: `Azure's inference server runs one request per worker (Azure: match WORKER_COUNT to max_concurrent_requests_per_instance); ${slots} slots, capped at the ${vcpus} vCPUs of ${instanceType.value}: requests beyond wait in the server's queue`,
    });
  }
  if (Object.keys(variables).length) doc.environment_variables = variables;
  Object.assign(doc, {
    instance_type: instanceType.value,
    instance_count: spec.instance_count,
    request_settings: requests.value,
    liveness_probe: probes.value.liveness,
    readiness_probe: probes.value.readiness,
  });
  if (spec.app_insights_enabled !== undefined) doc.app_insights_enabled = spec.app_insights_enabled;
  if (spec.egress_public_network_access) doc.egress_public_network_access = spec.egress_public_network_access;
  if (spec.data_collector) doc.data_collector = azureCollector(spec.data_collector);
  if (spec.resources)
    notCarried.push({
      deployment: d.name,
      what: "resources",
      why: "a Kubernetes deployment's key; a managed deployment's size is its instance_type",
    });
  return doc;
}

function readme(
  source: ExportSource,
  names: string[],
  chosen: ExportNote[],
  notCarried: ExportNote[],
  sample: string | undefined,
): string {
  const ep = source.endpoint;
  const live = Object.entries(ep.traffic).filter(([name, w]) => w > 0 && names.includes(name));
  const only = live.length === 1 && live[0]![1] === 100 ? live[0]![0] : undefined;
  const commands = [
    "az ml online-endpoint create -f endpoint.yml",
    ...names.map((n) => `az ml online-deployment create -f ${n}.yml${n === only ? " --all-traffic" : ""}`),
  ];
  if (!only && live.length > 0)
    commands.push(
      `az ml online-endpoint update --name ${ep.name} --traffic "${live.map(([n, w]) => `${n}=${w}`).join(" ")}"`,
    );
  const mirror = Object.entries(ep.mirrorTraffic).filter(([n, w]) => w > 0 && names.includes(n));
  if (mirror.length)
    commands.push(
      `az ml online-endpoint update --name ${ep.name} --mirror-traffic "${mirror.map(([n, w]) => `${n}=${w}`).join(" ")}"`,
    );
  const lines = [
    `# Azure ML: endpoint ${ep.name}`,
    "",
    `Made by pier ${PIER_VERSION} on ${new Date().toISOString().slice(0, 10)} from what ran here. Add \`--resource-group RG --workspace-name WS\` (or \`az configure --defaults\`) to each command.`,
    "",
    "## Commands, in order",
    "",
    "```bash",
    ...commands,
    ...(sample ? [`az ml online-endpoint invoke --name ${ep.name} --request-file sample-request.json`] : []),
    "```",
    "",
    ...notesSection(chosen, notCarried),
    "## Check edits",
    "",
    `After editing these files, \`pier export azureml --check ${"."}\` checks them again (pier's schema of the YAML, and the files each names).`,
    "",
  ];
  return lines.join("\n");
}

/** Writes the export into `dir` (which must be empty or absent); checks what it wrote. */
export function exportAzureMl(source: ExportSource, dir: string): ExportResult {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const chosen: ExportNote[] = [];
  const notCarried: ExportNote[] = [];
  const ep = source.endpoint;
  const endpointDoc: Record<string, unknown> = {
    $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json",
    name: ep.name,
    auth_mode: ep.spec.auth_mode,
    ...(ep.spec.description ? { description: ep.spec.description } : {}),
    ...(ep.spec.tags ? { tags: ep.spec.tags } : {}),
    ...(ep.spec.public_network_access ? { public_network_access: ep.spec.public_network_access } : {}),
    ...(ep.spec.identity ? { identity: ep.spec.identity } : {}),
  };
  const findings: CheckFinding[] = [];
  const write = (name: string, doc: Record<string, unknown>) => {
    writeFileSync(join(dir, name), stringify(doc, { lineWidth: 0 }));
    files.push(name);
    findings.push(...checkAzureDocument(name, doc, dir));
  };
  write("endpoint.yml", endpointDoc);
  notCarried.push({
    deployment: null,
    what: "the endpoint's keys",
    why: `Azure makes its own at create: az ml online-endpoint get-credentials --name ${ep.name}`,
  });
  for (const d of source.deployments)
    write(`${d.name}.yml`, deploymentDocument(source, d, dir, chosen, notCarried, files));
  const first = source.deployments.find((d) => !d.code);
  const sample = first ? exampleScoreBody(first.model.inputExample) : undefined;
  if (sample !== undefined) {
    writeFileSync(join(dir, "sample-request.json"), `${JSON.stringify(sample)}\n`);
    files.push("sample-request.json");
  }
  writeFileSync(
    join(dir, "README.md"),
    readme(
      source,
      source.deployments.map((d) => d.name),
      chosen,
      notCarried,
      sample === undefined ? undefined : "x",
    ),
  );
  files.push("README.md");
  return { target: "azureml", dir, files, chosen, notCarried, findings };
}
