/**
 * pier's default workload on an empty home: synthesize banking data, train the financial-behavior
 * model, register it, create endpoint fin-behavior (key auth) and deploy blue with all traffic.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDeploymentSpec, parseEndpointSpec } from "../config/index.js";
import type { Engine, ProgressSink } from "../engine/index.js";
import {
  BANKING_COLUMNS,
  synthesizeBankingRecords,
  trainFinancialModel,
  writeCsv,
} from "../pipeline/index.js";
import type { Registry } from "../registry/index.js";

const DEFAULT_MODEL_NAME = "financial-behavior-model";
const DEFAULT_ENDPOINT = "fin-behavior";
const DEFAULT_DEPLOYMENT = "blue";

export interface DefaultWorkload {
  endpoint: string;
  deployment: string;
  model: string;
  scoringUri: string;
  key: string;
  exampleBody: unknown;
}

export async function createDefaultWorkload(
  engine: Engine,
  registry: Registry,
  home: string,
  progress: ProgressSink,
): Promise<DefaultWorkload> {
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
  const version = registry.register(modelDir, {
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
        request_settings: { max_concurrent_requests_per_instance: 4 },
      },
      "default deployment",
    ),
    { specDir: work, allTraffic: true, mode: "create", progress },
  );
  if (deployment.provisioning_state !== "Succeeded") {
    throw new Error(
      `the default deployment ended ${deployment.provisioning_state}: ${deployment.error?.summary}`,
    );
  }
  const example = JSON.parse(readFileSync(join(modelDir, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const credentials = engine.endpoints.credentials(DEFAULT_ENDPOINT);
  return {
    endpoint: DEFAULT_ENDPOINT,
    deployment: DEFAULT_DEPLOYMENT,
    model: `models:/${version.name}/${version.version}`,
    scoringUri: engine.endpoints.show(DEFAULT_ENDPOINT).scoring_uri,
    key: String(credentials.primaryKey),
    exampleBody: {
      input_data: { columns: example.columns, index: example.data.map((_, i) => i), data: example.data },
    },
  };
}
