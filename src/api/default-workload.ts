/**
 * pier's default workload: endpoint fin-behavior (key auth) with deployment blue serving the
 * financial-behavior model. `pier up` creates what is missing of it (the endpoint only when it does
 * not exist; the model is trained only when no version is registered) and prints how to call it on
 * every start.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseDeploymentSpec, parseEndpointSpec } from "../config/index.js";
import type { Engine, ProgressSink } from "../engine/index.js";
import type { ModelVersion, Registry } from "../registry/index.js";
import {
  BANKING_COLUMNS,
  synthesizeBankingRecords,
  trainFinancialModel,
  writeCsv,
} from "../training/index.js";

const DEFAULT_MODEL_NAME = "financial-behavior-model";
const DEFAULT_ENDPOINT = "fin-behavior";
const DEFAULT_DEPLOYMENT = "blue";
/**
 * The default deployment's concurrency: its ONNX host scores the requests that arrive together in one
 * run, so it takes many at once; 64 clients at a time get no 429 (2 × 64 admitted). YAML deployments
 * keep Azure's default of 1.
 */
const DEFAULT_MAX_CONCURRENT = 64;

export interface TryIt {
  endpoint: string;
  deployment: string;
  model: string;
  scoringUri: string;
  key: string;
  exampleBody: unknown;
}

/** The latest registered version of the default model, or one trained and registered now. */
async function defaultModel(registry: Registry, home: string, progress: ProgressSink): Promise<ModelVersion> {
  const registered = registry.listModels().find((m) => m.name === DEFAULT_MODEL_NAME);
  if (registered?.latestVersion) {
    const version = registry.getVersion(DEFAULT_MODEL_NAME, registered.latestVersion);
    progress({
      step: "register",
      message: `models:/${version.name}/${version.version} (already registered)`,
      status: "ok",
    });
    return version;
  }
  const work = join(home, "default-workload");
  mkdirSync(work, { recursive: true });
  const csv = join(work, "banking.csv");
  let started = performance.now();
  writeCsv(csv, BANKING_COLUMNS, synthesizeBankingRecords({ rows: 5000, seed: 42 }));
  progress({
    step: "data",
    message: `5000 synthetic banking rows → ${csv}`,
    ms: performance.now() - started,
    status: "ok",
  });
  started = performance.now();
  const modelDir = join(work, "model");
  const report = await trainFinancialModel({ dataPath: csv, outDir: modelDir, search: 0, force: true });
  progress({
    step: "train",
    message: `random forest, held-out ROC AUC ${report.metrics.roc_auc.toFixed(4)} (target HighAmount is derived from Transaction Amount: a leaked demo target)`,
    ms: performance.now() - started,
    status: "ok",
  });
  started = performance.now();
  const version = await registry.register(modelDir, {
    name: DEFAULT_MODEL_NAME,
    description: "pier's default workload",
    tags: { source: "pier up" },
  });
  progress({
    step: "register",
    message: `models:/${version.name}/${version.version}`,
    ms: performance.now() - started,
    status: "ok",
  });
  return version;
}

/** Creates the default endpoint and its deployment when the endpoint does not exist; says whether it did. */
export async function ensureDefaultWorkload(
  engine: Engine,
  registry: Registry,
  home: string,
  progress: ProgressSink,
): Promise<boolean> {
  if (engine.endpoints.route(DEFAULT_ENDPOINT)) return false;
  const version = await defaultModel(registry, home, progress);
  engine.endpoints.create(
    parseEndpointSpec(
      {
        name: DEFAULT_ENDPOINT,
        auth_mode: "key",
        description: "financial behavior: flags high-amount transactions",
      },
      "default endpoint",
    ),
  );
  const deployment = await engine.applyDeployment(
    parseDeploymentSpec(
      {
        name: DEFAULT_DEPLOYMENT,
        endpoint_name: DEFAULT_ENDPOINT,
        model: `models:/${version.name}/${version.version}`,
        instance_type: "Standard_F2s_v2",
        instance_count: 1,
        request_settings: { max_concurrent_requests_per_instance: DEFAULT_MAX_CONCURRENT },
        // What the model takes and answers is captured, so `pier monitor` works from the start.
        data_collector: {
          collections: { model_inputs: { enabled: "True" }, model_outputs: { enabled: "True" } },
        },
      },
      "default deployment",
    ),
    { specDir: home, allTraffic: true, mode: "create", progress },
  );
  if (deployment.provisioning_state !== "Succeeded") {
    throw new Error(
      `the default deployment ended ${deployment.provisioning_state}: ${deployment.error?.summary}`,
    );
  }
  return true;
}

/** How to call the default endpoint now, when it exists with key auth and a deployment taking its traffic. */
export function tryDefaultEndpoint(engine: Engine, registry: Registry): TryIt | undefined {
  const route = engine.endpoints.route(DEFAULT_ENDPOINT);
  const live = Object.entries(route?.traffic ?? {}).find(([, weight]) => weight > 0)?.[0];
  const target = live ? engine.routing.target(DEFAULT_ENDPOINT, live) : undefined;
  if (route?.authMode !== "key" || !target) return undefined;
  const version = registry.getVersion(target.modelName, target.modelVersion);
  const example = version.inputExample as { columns?: string[]; data?: unknown[][] } | null;
  return {
    endpoint: DEFAULT_ENDPOINT,
    deployment: target.name,
    model: `models:/${target.modelName}/${target.modelVersion}`,
    scoringUri: engine.endpoints.show(DEFAULT_ENDPOINT).scoring_uri,
    key: route.keys[0],
    exampleBody: {
      input_data: example?.data
        ? { columns: example.columns, index: example.data.map((_, i) => i), data: example.data }
        : [],
    },
  };
}
