/**
 * Checks of exported files, and of files a user edited since (`pier export … --check DIR`): Azure ML
 * YAML against pier's schemas (azureml-schema.ts), InferenceServices against KServe's CRD
 * (openAPIV3Schema of data/kserve/serving.kserve.io_inferenceservices.yaml), then the rules neither
 * schema encodes: files the YAML names exist, an ONNX model needs protocol v2, a model format has a
 * runtime that serves it with that protocol, a canary's percent is 1–99, names fit Kubernetes.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { type OnnxGraphInterface, readOnnxInterface } from "../model/index.js";
import { AZURE_DEPLOYMENT_SCHEMA, AZURE_ENDPOINT_SCHEMA } from "./azureml-schema.js";
import { built, type Runtime } from "./kserve-data.js";
import { webhookFindings } from "./kserve-webhook.js";
import { checkModelSettings } from "./mlserver-settings.js";
import { type StructuralSchema, validateStructural } from "./structural.js";
import { checkTritonConfig } from "./triton-config.js";

export interface CheckFinding {
  file: string;
  /** Where in the document (a JSON pointer such as /spec/predictor/model). */
  path: string;
  rule: string;
  message: string;
}

/** Azure's endpoint and deployment schemas, compiled when an Azure document is first checked. */
let azure: { endpoint: ValidateFunction; deployment: ValidateFunction } | undefined;
function azureSchemas(): { endpoint: ValidateFunction; deployment: ValidateFunction } {
  if (!azure) {
    const { Ajv } = createRequire(import.meta.url)("ajv") as { Ajv: typeof AjvClass };
    const ajv = new Ajv({ allErrors: true, strict: false });
    azure = {
      endpoint: ajv.compile(AZURE_ENDPOINT_SCHEMA),
      deployment: ajv.compile(AZURE_DEPLOYMENT_SCHEMA),
    };
  }
  return azure;
}

/** KServe's v1beta1 InferenceService schema and its runtimes, read once (kserve-data.ts). */
let inferenceService: StructuralSchema | undefined;
const inferenceServiceSchema = (): StructuralSchema => (inferenceService ??= built("schema"));

let runtimes: Runtime[] | undefined;
/** The ClusterServingRuntimes KServe ships, as data/kserve has them. */
export const kserveRuntimes = (): Runtime[] => (runtimes ??= built("runtimes"));

function schemaFindings(
  file: string,
  errors: ErrorObject[] | null | undefined,
  rule: string,
): CheckFinding[] {
  return (errors ?? []).map((e) => ({
    file,
    path: e.instancePath || "/",
    rule,
    message:
      e.keyword === "additionalProperties"
        ? `'${(e.params as { additionalProperty: string }).additionalProperty}' is not a known key`
        : e.keyword === "enum"
          ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`
          : (e.message ?? e.keyword),
  }));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** An Azure ML YAML document: the schema, then the files it names (relative to the YAML). */
export function checkAzureDocument(file: string, doc: unknown, baseDir: string): CheckFinding[] {
  if (!isObject(doc)) return [{ file, path: "/", rule: "yaml", message: "not a YAML mapping" }];
  const isEndpoint = String(doc.$schema ?? "").includes("managedOnlineEndpoint");
  const validate = isEndpoint ? azureSchemas().endpoint : azureSchemas().deployment;
  const findings = validate(doc)
    ? []
    : schemaFindings(
        file,
        validate.errors,
        isEndpoint ? "azureml-endpoint-schema" : "azureml-deployment-schema",
      );
  if (isEndpoint) return findings;
  const exists = (path: unknown, at: string, what: string) => {
    if (typeof path === "string" && !path.startsWith("azureml:") && !existsSync(resolve(baseDir, path)))
      findings.push({
        file,
        path: at,
        rule: "file-exists",
        message: `${what} ${path} does not exist (relative to ${file})`,
      });
  };
  const model = doc.model;
  if (isObject(model)) exists(model.path, "/model/path", "the model folder");
  const code = doc.code_configuration;
  if (isObject(code)) {
    exists(code.code, "/code_configuration/code", "the code folder");
    if (typeof code.code === "string" && typeof code.scoring_script === "string")
      exists(
        join(code.code, code.scoring_script),
        "/code_configuration/scoring_script",
        "the scoring script",
      );
  }
  const environment = doc.environment;
  if (isObject(environment)) exists(environment.conda_file, "/environment/conda_file", "the conda file");
  if (isObject(model) && model.type === "custom_model" && !code)
    findings.push({
      file,
      path: "/model/type",
      rule: "custom-model-needs-script",
      message:
        "a custom_model needs code_configuration (only an mlflow_model deploys without a scoring script)",
    });
  for (const name of ["liveness_probe"])
    if (
      isObject(doc[name]) &&
      (doc[name] as Record<string, unknown>).success_threshold !== undefined &&
      (doc[name] as Record<string, unknown>).success_threshold !== 1
    )
      findings.push({
        file,
        path: `/${name}/success_threshold`,
        rule: "liveness-success-threshold",
        message: "must be 1 (Azure fixes it)",
      });
  return findings;
}

const STORAGE = /^(s3|gs|pvc|oci|hf|https?|hdfs|webhdfs|file):\/\//;

/** An InferenceService: the CRD's schema, then what KServe decides only when it reconciles. */
export function checkInferenceService(
  file: string,
  doc: unknown,
  runtimes = kserveRuntimes(),
): CheckFinding[] {
  if (!isObject(doc)) return [{ file, path: "/", rule: "yaml", message: "not a YAML mapping" }];
  const findings: CheckFinding[] = [];
  if (doc.apiVersion !== "serving.kserve.io/v1beta1" || doc.kind !== "InferenceService")
    return [
      {
        file,
        path: "/apiVersion",
        rule: "kind",
        message: "not a serving.kserve.io/v1beta1 InferenceService",
      },
    ];
  for (const error of validateStructural(inferenceServiceSchema(), doc))
    findings.push({ file, path: error.path, rule: "kserve-crd", message: error.message });
  findings.push(...webhookFindings(file, doc));
  const name = (doc.metadata as Record<string, unknown> | undefined)?.name;
  if (typeof name === "string" && name.length > 63)
    findings.push({
      file,
      path: "/metadata/name",
      rule: "dns-1123",
      message: `'${name}' is ${name.length} characters: the Service KServe makes for it takes at most 63 (a DNS label)`,
    });
  const predictor = (doc.spec as Record<string, unknown> | undefined)?.predictor as
    | Record<string, unknown>
    | undefined;
  if (!isObject(predictor))
    return [
      ...findings,
      { file, path: "/spec/predictor", rule: "predictor", message: "an InferenceService needs a predictor" },
    ];
  // canaryTrafficPercent: 0 pins traffic back to the last ready revision and 100 promotes, both as KServe documents.
  const canary = predictor.canaryTrafficPercent;
  if (canary !== undefined && (typeof canary !== "number" || canary < 0 || canary > 100))
    findings.push({
      file,
      path: "/spec/predictor/canaryTrafficPercent",
      rule: "canary-percent",
      message: "canaryTrafficPercent is a percent of traffic: 0–100",
    });
  const model = predictor.model;
  if (isObject(model)) {
    const runtimeFinding = runtimeSelection(model, runtimes);
    if (runtimeFinding)
      findings.push({ file, path: "/spec/predictor/model", rule: "runtime", message: runtimeFinding });
    // The storage initializer reads these; a storage spec (model.storage) or storageUris may stand in for storageUri.
    const uri = model.storageUri;
    if (
      uri !== undefined
        ? typeof uri !== "string" || !STORAGE.test(uri)
        : !model.storage && !predictor.storageUris
    )
      findings.push({
        file,
        path: "/spec/predictor/model/storageUri",
        rule: "storage-uri",
        message: `'${String(uri)}' is not a storage URI KServe's storage initializer reads (s3://, gs://, pvc://, https://, http://, oci://, hf://, hdfs://, webhdfs://, file://)`,
      });
  }
  return findings;
}

/**
 * How KServe picks the runtime of a `model` predictor when it reconciles, and why none fits: a named
 * runtime must list the format (and the version, when both say one) and, when given, the protocol; a
 * runtime left unnamed is chosen among those that auto-select the format for the protocol (v1 when the
 * manifest says none), the highest priority first. undefined when one is found.
 */
export function runtimeSelection(
  model: Record<string, unknown>,
  runtimes: readonly Runtime[],
): string | undefined {
  const modelFormat = isObject(model.modelFormat) ? model.modelFormat : {};
  const name = String(modelFormat.name ?? "");
  const version = modelFormat.version === undefined ? undefined : String(modelFormat.version);
  const protocol = model.protocolVersion === undefined ? undefined : String(model.protocolVersion);
  const named = typeof model.runtime === "string" ? model.runtime : undefined;
  const fits = (r: Runtime, auto: boolean) =>
    r.supported.some(
      (f) =>
        f.name.toLowerCase() === name.toLowerCase() &&
        (version === undefined || f.version === undefined || f.version === version) &&
        (!auto || f.autoSelect),
    );
  const said = `modelFormat ${name}${version !== undefined ? ` version ${version}` : ""}`;
  const listing = (r: Runtime) =>
    `${r.name}: ${r.supported.map((f) => `${f.name}${f.version ? ` ${f.version}` : ""}`).join(", ")}; ${r.protocols.join("/")}`;
  if (named) {
    const runtime = runtimes.find((r) => r.name === named);
    if (!runtime) return `no runtime ${named} among KServe's (${runtimes.map((r) => r.name).join(", ")})`;
    if (!fits(runtime, false))
      return `${named} does not serve ${said} (${listing(runtime)}): KServe reports "No runtime found" when it reconciles`;
    if (protocol !== undefined && !runtime.protocols.includes(protocol))
      return `${named} does not speak protocol ${protocol} (${runtime.protocols.join(", ")})`;
    return undefined;
  }
  const wanted = protocol ?? "v1";
  if (runtimes.some((r) => fits(r, true) && r.protocols.includes(wanted))) return undefined;
  const serving = runtimes.filter((r) => fits(r, true));
  return serving.length > 0
    ? `no runtime auto-selects ${said} for protocol ${wanted}${protocol === undefined ? " (KServe's default when protocolVersion is not set)" : ""}; ${serving.map(listing).join(" | ")}`
    : `no runtime serves ${said}: KServe reports "No runtime found" when it reconciles (${
        runtimes
          .filter((r) => r.supported.some((f) => f.name.toLowerCase() === name.toLowerCase()))
          .map(listing)
          .join(" | ") || "no runtime lists that format"
      })`;
}

/** Every Azure ML YAML and InferenceService in a folder (not in its model or code copies). */
export function checkExportDir(dir: string): { files: string[]; findings: CheckFinding[] } {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
  const findings: CheckFinding[] = [];
  const runtimes = kserveRuntimes();
  const names: string[] = [];
  for (const file of files) {
    const shown = relative(process.cwd(), file) || file;
    let docs: unknown[];
    try {
      docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
        if (d.errors.length) throw d.errors[0];
        return d.toJS();
      });
    } catch (error) {
      findings.push({
        file: shown,
        path: "/",
        rule: "yaml",
        message: (error as Error).message.split("\n")[0]!,
      });
      continue;
    }
    for (const doc of docs) {
      if (isObject(doc) && String(doc.apiVersion ?? "").startsWith("serving.kserve.io")) {
        findings.push(...checkInferenceService(shown, doc, runtimes));
        const name = isObject(doc.metadata) ? doc.metadata.name : undefined;
        if (typeof name === "string") names.push(name);
      } else if (isObject(doc) && String(doc.$schema ?? "").includes("azuremlschemas"))
        findings.push(...checkAzureDocument(shown, doc, dirname(file)));
    }
  }
  findings.push(...checkTritonRepositories(dir));
  findings.push(...checkMlserverSettings(dir, names));
  return { files, findings };
}

/** Each <deployment>/model/model-settings.json of an export, as MLServer reads it. */
function checkMlserverSettings(dir: string, names: readonly string[]): CheckFinding[] {
  const findings: CheckFinding[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name, "model", "model-settings.json");
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const shown = relative(process.cwd(), file) || file;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      findings.push({ file: shown, path: "/", rule: "mlserver-settings", message: (error as Error).message });
      continue;
    }
    for (const message of checkModelSettings(value, dirname(file), names))
      findings.push({ file: shown, path: "/", rule: "mlserver-settings", message });
  }
  return findings;
}

/** Each Triton repository in an export (<deployment>/triton/<model>/): its config.pbtxt against its model's graph. */
function checkTritonRepositories(dir: string): CheckFinding[] {
  const findings: CheckFinding[] = [];
  const folders = (path: string) =>
    existsSync(path)
      ? readdirSync(path, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
      : [];
  for (const deployment of folders(dir))
    for (const model of folders(join(dir, deployment, "triton"))) {
      const root = join(dir, deployment, "triton", model);
      const configFile = join(root, "config.pbtxt");
      const shown = relative(process.cwd(), configFile) || configFile;
      const versions = folders(root).filter(
        (v) => /^\d+$/.test(v) && existsSync(join(root, v, "model.onnx")),
      );
      if (versions.length === 0) {
        findings.push({
          file: shown,
          path: "/",
          rule: "triton-repository",
          message: `no <version>/model.onnx in ${root}`,
        });
        continue;
      }
      if (!existsSync(configFile)) continue; // Triton can complete a config from an ONNX graph itself
      let graph: OnnxGraphInterface;
      try {
        graph = readOnnxInterface(readFileSync(join(root, versions.at(-1)!, "model.onnx")));
      } catch (error) {
        findings.push({
          file: shown,
          path: "/",
          rule: "triton-config",
          message: `the model cannot be read: ${(error as Error).message}`,
        });
        continue;
      }
      for (const message of checkTritonConfig(readFileSync(configFile, "utf8"), graph, model))
        findings.push({ file: shown, path: "/", rule: "triton-config", message });
    }
  return findings;
}
