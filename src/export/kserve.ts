/**
 * `pier export kserve`: an endpoint as KServe v1beta1 InferenceServices. An ONNX model is served by
 * Triton (modelFormat onnx, protocol v2, the `<name>/1/model.onnx` repository written here); an MLflow
 * model by MLServer (modelFormat mlflow, protocol v2); a scoring script by a container the user builds
 * (a Dockerfile is written beside it). Sizes come from what pier measured; the endpoint's traffic
 * becomes a canary; a data collector becomes a logger; a v2 request for each model is written, and
 * pier answers it the same way.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { type DeploymentSpec, scaleRuleOf } from "../config/index.js";
import { exampleScoreBody, exposeTensors, readOnnxInterface } from "../model/index.js";
import { PIER_VERSION } from "../shared/index.js";
import { type ExportNote, type ExportResult, notesSection } from "./azureml.js";
import {
  chooseProbes,
  chooseRequestSettings,
  type ExportDeployment,
  type ExportSource,
  MEMORY_MARGIN,
  measured,
  modelKind,
  pierOnlyVariables,
} from "./facts.js";
import type { Runtime } from "./kserve-data.js";
import { mlflowSettings } from "./mlserver-settings.js";
import { configText, tritonConfig } from "./triton-config.js";
import { type CheckFinding, checkInferenceService, kserveRuntimes } from "./validate.js";

/** A name Kubernetes takes: lowercase letters, digits and '-'. */
const kubeName = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63) || "model";

const V2_TYPES: Record<string, string> = {
  double: "FP64",
  float: "FP32",
  long: "INT64",
  integer: "INT32",
  boolean: "BOOL",
  string: "BYTES",
};

/**
 * The model's input example as an Open Inference Protocol request, one input per column; a model
 * with no example gets one row of zeros (and empty strings) for its signature's columns.
 */
function v2Request(d: ExportDeployment, forMlserver: boolean): Record<string, unknown> | undefined {
  let declared: { name?: string; type?: string }[] = [];
  try {
    declared = JSON.parse(String(d.model.signature?.inputs ?? "[]")) as typeof declared;
  } catch {}
  const body = exampleScoreBody(d.model.inputExample) as
    | { input_data?: { columns?: string[]; data?: unknown[][] } }
    | undefined;
  const named = declared.filter((c) => typeof c.name === "string" && c.type !== "tensor");
  const columns = body?.input_data?.columns ?? (named.length ? named.map((c) => c.name!) : undefined);
  const rows =
    body?.input_data?.data ??
    (named.length
      ? [named.map((c) => (c.type === "string" ? "" : c.type === "boolean" ? false : 0))]
      : undefined);
  if (!columns || !rows) return undefined;
  return {
    ...(forMlserver ? { parameters: { content_type: "pd" } } : {}),
    inputs: columns.map((name, i) => {
      const type =
        declared.find((c) => c.name === name)?.type ??
        (typeof rows[0]?.[i] === "string" ? "string" : "double");
      const datatype = V2_TYPES[type] ?? "BYTES";
      return {
        name,
        shape: [rows.length],
        datatype,
        data: rows.map((r) => r[i]),
        ...(forMlserver && datatype === "BYTES" ? { parameters: { content_type: "str" } } : {}),
      };
    }),
  };
}

interface Predictor {
  spec: Record<string, unknown>;
  /** The model name in the v2 path (/v2/models/NAME/infer). */
  v2Name: string;
}

function predictorOf(
  source: ExportSource,
  d: ExportDeployment,
  dir: string,
  storageUri: string,
  endpointName: string,
  chosen: ExportNote[],
  notCarried: ExportNote[],
  files: string[],
): Predictor {
  const spec: DeploymentSpec = d.spec;
  const m = measured(d.evidence);
  const kind = modelKind(d);
  const folder = d.name;
  const base = `${storageUri.replace(/\/+$/, "")}/${folder}`;
  const memoryMiB = m.peakMemoryMiB !== null ? Math.max(256, m.peakMemoryMiB * MEMORY_MARGIN) : 2048;
  const resources = {
    requests: { cpu: "1", memory: `${memoryMiB}Mi` },
    limits: { cpu: "2", memory: `${memoryMiB}Mi` },
  };
  chosen.push({
    deployment: d.name,
    what: `resources memory ${memoryMiB}Mi`,
    why:
      m.peakMemoryMiB !== null
        ? `peak ${m.peakMemoryMiB} MiB × ${MEMORY_MARGIN} margin`
        : "no peak measured: the runtimes' default 2Gi",
  });
  const requests = chooseRequestSettings(spec, m);
  const probes = chooseProbes(spec, m);
  const concurrency = requests.value.max_concurrent_requests_per_instance;
  const common = {
    minReplicas: spec.instance_count,
    maxReplicas: spec.instance_count,
    containerConcurrency: concurrency,
    timeout: Math.ceil(requests.value.request_timeout_ms / 1000),
  };
  const scale = scaleRuleOf(spec);
  if (scale) {
    // Knative's autoscaler (KServe's default) scales on concurrency per replica: the slots pier scales on.
    const target = Math.max(1, Math.round(concurrency * scale.target));
    Object.assign(common, {
      minReplicas: scale.min,
      maxReplicas: scale.max,
      scaleMetric: "concurrency",
      scaleTarget: target,
    });
    chosen.push({
      deployment: d.name,
      what: `minReplicas ${scale.min}, maxReplicas ${scale.max}, scaleMetric concurrency, scaleTarget ${target}, containerConcurrency ${concurrency}, timeout ${common.timeout} s`,
      why: `scale_settings (target_utilization ${Math.round(scale.target * 100)} % of ${concurrency} slot(s) per instance), max_concurrent_requests_per_instance and request_timeout_ms (${requests.why})`,
    });
    notCarried.push({
      deployment: d.name,
      what: "scale_settings: scaling on CPU as well",
      why: "an InferenceService scales on one metric; pier scales on the higher of request slots and CPU, and the export carries the slots (KPA's concurrency)",
    });
  } else
    chosen.push({
      deployment: d.name,
      what: `minReplicas = maxReplicas = ${spec.instance_count}, containerConcurrency ${common.containerConcurrency}, timeout ${common.timeout} s`,
      why: `instance_count, max_concurrent_requests_per_instance and request_timeout_ms (${requests.why})`,
    });
  const dc = spec.data_collector;
  if (dc) {
    const req = dc.collections.request?.enabled || dc.collections.model_inputs?.enabled;
    const res = dc.collections.response?.enabled || dc.collections.model_outputs?.enabled;
    const mode = req && res ? "all" : req ? "request" : "response";
    Object.assign(common, { logger: { mode, url: "http://message-dumper.default.svc.cluster.local" } });
    chosen.push({
      deployment: d.name,
      what: `logger mode ${mode}`,
      why: "from data_collector's collections; the url is KServe's message-dumper example: point it at your CloudEvents sink",
    });
    if (dc.sampling_rate < 1)
      notCarried.push({
        deployment: d.name,
        what: "data_collector.sampling_rate",
        why: "KServe's logger sends every request",
      });
  }
  for (const name of pierOnlyVariables(spec))
    notCarried.push({ deployment: d.name, what: `environment_variables.${name}`, why: "read by pier only" });
  const variables = Object.entries(spec.environment_variables ?? {})
    .filter(([k]) => !k.startsWith("PIER_"))
    .map(([name, value]) => ({ name, value: String(value) }));

  if (kind === "onnx") {
    const modelName = kubeName(d.model.name);
    const file = String(d.model.flavors.onnx!.data ?? "model.onnx");
    const entry = d.model.artifacts.find((a) => a.path === file);
    if (!entry) throw new Error(`models:/${d.model.name}/${d.model.version} has no ${file}`);
    const repo = join(dir, folder, "triton");
    const staging = mkdtempSync(join(tmpdir(), "pier-export-"));
    try {
      source.materialize([entry], join(staging, "m"));
      mkdirSync(join(repo, modelName, "1"), { recursive: true });
      copyFileSync(join(staging, "m", file), join(repo, modelName, "1", "model.onnx"));
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    files.push(`${folder}/triton/${modelName}/1/model.onnx`);
    // Triton returns tensors only: a ZipMap's probabilities become an output of their own (the graph is
    // otherwise unchanged), so that the answer still carries them.
    const onnxFile = join(repo, modelName, "1", "model.onnx");
    const bytes = readFileSync(onnxFile);
    let graph = readOnnxInterface(bytes);
    const zipmaps = graph.outputs.flatMap((o) => (o.kind === "zipmap" ? [o] : []));
    const sources = zipmaps.map((z) => z.source);
    if (sources.length > 0) {
      const exposedBytes = exposeTensors(bytes, sources);
      writeFileSync(onnxFile, exposedBytes);
      // The added outputs are [rows, classes]: as many columns as the ZipMap has labels.
      const exposed = readOnnxInterface(exposedBytes);
      const classes = new Map(zipmaps.map((z) => [z.source, z.labels.length]));
      graph = {
        ...exposed,
        outputs: exposed.outputs.map((o) =>
          o.kind === "tensor" && o.shape === null && classes.has(o.name)
            ? { ...o, shape: [-1, classes.get(o.name)!] }
            : o,
        ),
      };
      chosen.push({
        deployment: d.name,
        what: `outputs ${sources.join(", ")} added to model.onnx`,
        why: "the graph's ZipMap answers a sequence of maps, which Triton cannot return; the probability tensor that feeds it is returned instead",
      });
    }
    const config = tritonConfig(modelName, graph);
    writeFileSync(join(repo, modelName, "config.pbtxt"), configText(config));
    files.push(`${folder}/triton/${modelName}/config.pbtxt`);
    chosen.push({
      deployment: d.name,
      what: `Triton repository ${folder}/triton/${modelName}/ (config.pbtxt, 1/model.onnx), storageUri ${base}/triton`,
      why: `kserve-tritonserver serves onnx over v2 and reads <name>/config.pbtxt and <name>/<version>/model.onnx; the config is the graph's own inputs and outputs, ${config.max_batch_size > 0 ? `max_batch_size ${config.max_batch_size} with dynamic batching (every tensor has a free batch dimension)` : "max_batch_size 0 (the graph's tensors are taken with their own shapes: a 1-D input per column has no separate batch dimension)"}; upload the folder to the storage URI`,
    });
    for (const what of config.leftOut)
      notCarried.push({
        deployment: d.name,
        what,
        why: "Triton returns tensors only: left out of config.pbtxt",
      });
    return {
      v2Name: modelName,
      spec: {
        ...common,
        model: {
          modelFormat: { name: "onnx" },
          protocolVersion: "v2",
          runtime: "kserve-tritonserver",
          storageUri: `${base}/triton`,
          resources,
          ...(variables.length ? { env: variables } : {}),
        },
      },
    };
  }
  if (kind === "script") {
    const image = `REGISTRY/${kubeName(`${endpointName}-${d.name}`)}:1`;
    source.materialize(d.model.artifacts, join(dir, folder, "model"));
    source.materialize(d.code!.files, join(dir, folder, "code"));
    if (d.code!.conda) writeFileSync(join(dir, folder, "conda.yaml"), d.code!.conda.text);
    writeFileSync(
      join(dir, folder, "Dockerfile"),
      [
        "# The scoring script under Azure's inference server (azmlinfsrv), as pier ran it.",
        "FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest",
        ...(d.code!.conda
          ? [
              "COPY conda.yaml /tmp/conda.yaml",
              "RUN conda env update -n base -f /tmp/conda.yaml && conda clean -afy",
            ]
          : []),
        "RUN pip install --no-cache-dir azureml-inference-server-http",
        "COPY model /var/azureml-app/azureml-models/model",
        "COPY code /var/azureml-app/code",
        "ENV AZUREML_MODEL_DIR=/var/azureml-app/azureml-models AML_APP_ROOT=/var/azureml-app/code",
        `CMD ["azmlinfsrv", "--entry_script", "/var/azureml-app/code/${d.code!.scoringScript}", "--model_dir", "/var/azureml-app/azureml-models", "--port", "8080"]`,
        "",
      ].join("\n"),
    );
    files.push(`${folder}/Dockerfile`, `${folder}/model/`, `${folder}/code/`);
    notCarried.push({
      deployment: d.name,
      what: "scoring script as a model",
      why: `KServe has no runtime for Azure's init()/run() contract: build and push ${folder}/Dockerfile as ${image} (replace REGISTRY), then apply`,
    });
    return {
      v2Name: kubeName(d.name),
      spec: {
        ...common,
        containers: [
          {
            name: "kserve-container",
            image,
            ports: [{ containerPort: 8080, protocol: "TCP" }],
            ...(variables.length ? { env: variables } : {}),
            readinessProbe: {
              httpGet: { path: "/", port: 8080 },
              initialDelaySeconds: probes.value.readiness.initial_delay,
              periodSeconds: probes.value.readiness.period,
              timeoutSeconds: probes.value.readiness.timeout,
              failureThreshold: probes.value.readiness.failure_threshold,
            },
            resources,
          },
        ],
      },
    };
  }
  // An MLflow model (sklearn or any pyfunc): MLServer's mlflow runtime reads the folder.
  source.materialize(d.model.artifacts, join(dir, folder, "model"));
  files.push(`${folder}/model/ (${d.model.artifacts.length} files)`);
  const format = mlflowFormat(d, kserveRuntimes(), notCarried);
  writeFileSync(
    join(dir, folder, "model", "model-settings.json"),
    `${JSON.stringify(mlflowSettings(kubeName(endpointName)), null, 2)}\n`,
  );
  files.push(`${folder}/model/model-settings.json`);
  chosen.push({
    deployment: d.name,
    what: `modelFormat mlflow${format.version ? ` version ${format.version}` : ""} on kserve-mlserver, storageUri ${base}/model`,
    why: `MLServer serves MLflow model folders with protocol v2${kind === "sklearn" ? " (kserve-sklearnserver would need the bare pickle, and loses the signature's checks)" : ""}; upload ${folder}/model to the storage URI`,
  });
  return {
    v2Name: kubeName(endpointName),
    spec: {
      ...common,
      model: {
        modelFormat: format,
        protocolVersion: "v2",
        runtime: "kserve-mlserver",
        storageUri: `${base}/model`,
        resources,
        ...(variables.length ? { env: variables } : {}),
      },
    },
  };
}

/**
 * The modelFormat of an MLflow model as a runtime serves it: the major version of the MLflow that saved
 * it when kserve-mlserver lists that version, else the newest it lists at or below it (said as an
 * approximation: KServe finds no runtime for a version nobody lists, such as an MLflow 3 model's "3").
 */
function mlflowFormat(
  d: ExportDeployment,
  runtimes: readonly Runtime[],
  notCarried: ExportNote[],
): { name: "mlflow"; version?: string } {
  const saved = d.model.mlmodel?.mlflow_version;
  const major = typeof saved === "string" ? /^(\d+)\./.exec(saved)?.[1] : undefined;
  const listed = (runtimes.find((r) => r.name === "kserve-mlserver")?.supported ?? [])
    .filter((f) => f.name === "mlflow" && f.version !== undefined)
    .map((f) => f.version!)
    .sort((a, b) => Number(b) - Number(a));
  if (!major || listed.length === 0) return { name: "mlflow" };
  if (listed.includes(major)) return { name: "mlflow", version: major };
  const below = listed.find((v) => Number(v) <= Number(major)) ?? listed.at(-1)!;
  notCarried.push({
    deployment: d.name,
    what: `mlflow_version ${saved}`,
    why: `kserve-mlserver lists mlflow ${listed.join(" and ")} only, so the InferenceService says version ${below}: check that MLServer's MLflow runtime loads a model saved by MLflow ${major}, or save it with MLflow ${below}`,
  });
  return { name: "mlflow", version: below };
}

function inferenceService(
  name: string,
  predictor: Record<string, unknown>,
  deployment: string,
  canary?: number,
): Record<string, unknown> {
  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: {
      name,
      annotations: { "pier.dev/deployment": deployment, "pier.dev/exported-by": `pier ${PIER_VERSION}` },
      // kserve-mlserver's container takes MLSERVER_MODEL_IMPLEMENTATION from this label.
      ...(predictor.model && (predictor.model as { runtime?: string }).runtime === "kserve-mlserver"
        ? { labels: { modelClass: "mlserver_mlflow.MLflowRuntime" } }
        : {}),
    },
    spec: { predictor: { ...predictor, ...(canary !== undefined ? { canaryTrafficPercent: canary } : {}) } },
  };
}

export function exportKserve(source: ExportSource, dir: string, storageUri: string): ExportResult {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const chosen: ExportNote[] = [];
  const notCarried: ExportNote[] = [];
  const findings: CheckFinding[] = [];
  const runtimes = kserveRuntimes();
  const ep = source.endpoint;
  const isvc = kubeName(ep.name);
  const ranked = [...source.deployments].sort(
    (a, b) => (ep.traffic[b.name] ?? 0) - (ep.traffic[a.name] ?? 0),
  );
  const stable = ranked.find((d) => (ep.traffic[d.name] ?? 0) > 0);
  const steps: string[] = [];
  const tries: string[] = [];
  for (const d of ranked) {
    const predictor = predictorOf(source, d, dir, storageUri, ep.name, chosen, notCarried, files);
    const weight = ep.traffic[d.name] ?? 0;
    let name = isvc;
    let doc: Record<string, unknown>;
    let file: string;
    if (d === stable) {
      doc = inferenceService(isvc, predictor.spec, d.name);
      file = `${isvc}.yaml`;
      steps.push(`kubectl apply -f ${file}   # ${d.name}, the revision that serves`);
    } else if (weight > 0 && stable) {
      doc = inferenceService(isvc, predictor.spec, d.name, weight);
      file = `${isvc}-canary-${kubeName(d.name)}.yaml`;
      steps.push(`kubectl apply -f ${file}   # ${d.name} as a canary taking ${weight} %`);
      chosen.push({
        deployment: d.name,
        what: `canaryTrafficPercent ${weight}`,
        why: `its share of the endpoint's traffic; ${stable.name} keeps the rest as the previous revision`,
      });
    } else {
      name = kubeName(`${ep.name}-${d.name}`);
      doc = inferenceService(name, predictor.spec, d.name);
      file = `${name}.yaml`;
      steps.push(`kubectl apply -f ${file}   # ${d.name} at 0 %, its own InferenceService to test`);
    }
    writeFileSync(join(dir, file), stringify(doc, { lineWidth: 0 }));
    files.push(file);
    findings.push(...checkInferenceService(file, doc, runtimes));
    if ((ep.mirrorTraffic[d.name] ?? 0) > 0)
      notCarried.push({
        deployment: d.name,
        what: `mirror_traffic ${ep.mirrorTraffic[d.name]} %`,
        why: "KServe has no traffic mirroring",
      });
    const request = modelKind(d) === "script" ? undefined : v2Request(d, modelKind(d) !== "onnx");
    if (request) {
      const requestFile = `${kubeName(d.name)}-request-v2.json`;
      writeFileSync(join(dir, requestFile), `${JSON.stringify(request, null, 2)}\n`);
      files.push(requestFile);
      tries.push(
        `curl -H "Host: ${name}.NAMESPACE.example.com" -H "Content-Type: application/json" http://INGRESS/v2/models/${predictor.v2Name}/infer -d @${requestFile}`,
        `# the same request on pier: POST /endpoints/${ep.name}/v2/models/${d.model.name}/infer (header azureml-model-deployment: ${d.name})`,
      );
    }
  }
  notCarried.push(
    {
      deployment: null,
      what: `auth_mode ${ep.spec.auth_mode} and the endpoint's keys`,
      why: "KServe has no endpoint keys: put an ingress or service-mesh policy in front",
    },
    {
      deployment: null,
      what: "liveness_probe and readiness_probe of model predictors",
      why: "KServe's runtimes bring their own probes",
    },
  );
  const readme = [
    `# KServe: endpoint ${ep.name}`,
    "",
    `Made by pier ${PIER_VERSION} on ${new Date().toISOString().slice(0, 10)} from what ran here. InferenceService v1beta1, checked against KServe v0.20.0's CRD.`,
    "",
    `Upload each deployment's model folder to ${storageUri} first (the paths below), then:`,
    "",
    "```bash",
    ...steps,
    "```",
    "",
    "## Try it",
    "",
    "```bash",
    ...tries,
    "```",
    "",
    ...notesSection(chosen, notCarried),
    `After editing, \`pier export kserve --check ${"."}\` checks the manifests again (the CRD's schema and KServe's runtime rules).`,
    "",
  ];
  writeFileSync(join(dir, "README.md"), readme.join("\n"));
  files.push("README.md");
  return { target: "kserve", dir, files, chosen, notCarried, findings };
}
