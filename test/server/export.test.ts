/**
 * `pier export` round trips: an ONNX model pier trained, a public MLflow scikit-learn model and an
 * Azure scoring-script project run here, are exported as Azure ML YAML (checked by pier's schema)
 * and as KServe InferenceServices (checked by KServe's CRD and its runtime rules), deployed again
 * from the Azure ML export on a clean home, and answer the same requests with the same numbers; the
 * v2 request written for KServe gets the same answer from pier. Edits are caught by --check with the
 * file, the path and the rule; what cannot be carried over is listed.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse, stringify } from "yaml";
import type { ExportResult } from "../../src/export/index.js";
import { FIXTURES, post, type RunningPier, servePier, tempDir, trainedWorkspace } from "../helpers.js";
import { project, ROWS } from "../script-project.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";

async function endpoint(pier: RunningPier, name: string): Promise<Record<string, string>> {
  assert.equal((await pier.run(["endpoint", "create", "-n", name])).code, 0);
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", name, "-o", "json"])).stdout,
  ).primaryKey;
  return { authorization: `Bearer ${key}` };
}

async function deploy(pier: RunningPier, file: string, ...flags: string[]): Promise<void> {
  const created = await pier.run(["deployment", "create", "-f", file, ...flags]);
  assert.equal(created.code, 0, created.stdout + created.stderr);
}

function yaml(dir: string, name: string, doc: Record<string, unknown>): string {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, stringify(doc));
  return file;
}

test("export to Azure ML and KServe: checked, deployed again from the export, same answers", async (t) => {
  const work = await trainedWorkspace("pier-export-", 500);
  t.after(work.cleanup);
  const dir = tempDir(t);
  const pier = await servePier(t);

  // Three endpoints: pier's ONNX model (blue 100 %, green 0 % mirrored), a public MLflow sklearn
  // model, and a scoring script.
  const fin = await endpoint(pier, "fin");
  const onnx = (name: string, extra: Record<string, unknown> = {}) =>
    yaml(dir, name, {
      name,
      endpoint_name: "fin",
      model: work.model,
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      request_settings: { max_concurrent_requests_per_instance: 4 },
      environment_variables: { PIER_CHAOS_LATENCY_MS: "0", FEATURE_FLAG: "on" },
      ...extra,
    });
  await deploy(
    pier,
    onnx("blue", {
      data_collector: {
        collections: { model_inputs: { enabled: "True" }, model_outputs: { enabled: "True" } },
      },
    }),
    "--all-traffic",
  );
  await deploy(pier, onnx("green"));
  assert.equal((await pier.run(["endpoint", "update", "fin", "--mirror-traffic", "green=20"])).code, 0);
  const sk = await endpoint(pier, "skl");
  await deploy(
    pier,
    yaml(dir, "svc", {
      name: "svc",
      endpoint_name: "skl",
      model: join(FIXTURES, "mlflow/svc-tensor-output"),
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      environment_variables: { PIER_PYTHON: PYTHON },
    }),
    "--all-traffic",
  );
  const scripts = await endpoint(pier, "scripts");
  const scriptDir = join(dir, "script");
  const { yml, expected } = project(scriptDir);
  await deploy(pier, yml("sblue"), "--all-traffic");

  // The same requests before and after: the model's own input examples, and the script's rows.
  const finExample = JSON.parse(readFileSync(join(work.model, "input_example.json"), "utf8"));
  const svcExample = JSON.parse(
    readFileSync(join(FIXTURES, "mlflow/svc-tensor-output/input_example.json"), "utf8"),
  );
  const score = async (up: RunningPier, ep: string, auth: Record<string, string>, body: unknown) => {
    const answer = await post(`${up.url}/endpoints/${ep}/score`, body, auth);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body;
  };
  const before = {
    fin: await score(pier, "fin", fin, { input_data: finExample }),
    sk: await score(pier, "skl", sk, { input_data: svcExample }),
    scripts: await score(pier, "scripts", scripts, { data: ROWS }),
  };
  assert.deepEqual(before.scripts, expected);

  // Azure ML: every file checks out; what pier chose is explained; what it cannot carry is listed.
  const exported = async (
    target: string,
    ep: string,
    ...extra: string[]
  ): Promise<ExportResult & { dir: string }> => {
    const out = join(dir, `${target}-${ep}`);
    const result = await pier.run(["export", target, "-e", ep, "--out", out, "-o", "json", ...extra]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const parsed = JSON.parse(result.stdout) as ExportResult;
    assert.deepEqual(parsed.findings, []);
    return { ...parsed, dir: out };
  };
  const azFin = await exported("azureml", "fin");
  const blue = parse(readFileSync(join(azFin.dir, "blue.yml"), "utf8"));
  assert.equal(
    blue.$schema,
    "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
  );
  assert.deepEqual(blue.model, { path: "./blue/model", type: "mlflow_model" });
  assert.equal(blue.environment_variables.FEATURE_FLAG, "on");
  assert.equal(blue.environment_variables.PIER_CHAOS_LATENCY_MS, undefined);
  assert.deepEqual(blue.data_collector.collections.model_inputs, { enabled: "True" });
  assert.equal(blue.data_collector.rolling_rate, "Hour");
  assert.ok(
    azFin.notCarried.some(
      (n) => n.deployment === "blue" && n.what === "environment_variables.PIER_CHAOS_LATENCY_MS",
    ),
  );
  const instanceType = azFin.chosen.find(
    (c) => c.deployment === "blue" && c.what.startsWith("instance_type"),
  )!;
  assert.match(
    instanceType.why,
    /^peak \d+ MiB × 2 margin = \d+ MiB; Standard_\w+ has [\d.]+ GiB and \d+ vCPUs/,
  );
  assert.match(
    azFin.chosen.find((c) => c.what.startsWith("liveness"))!.why,
    /^measured start [\d.]+ s × 3 margin/,
  );
  const readme = readFileSync(join(azFin.dir, "README.md"), "utf8");
  assert.match(
    readme,
    /az ml online-endpoint create -f endpoint\.yml\naz ml online-deployment create -f blue\.yml --all-traffic\naz ml online-deployment create -f green\.yml\naz ml online-endpoint update --name fin --mirror-traffic "green=20"/,
  );
  const azSk = await exported("azureml", "skl");
  const azScripts = await exported("azureml", "scripts");
  const sblue = parse(readFileSync(join(azScripts.dir, "sblue.yml"), "utf8"));
  assert.deepEqual(sblue.code_configuration, { code: "./sblue/code", scoring_script: "score.py" });
  assert.equal(sblue.environment.conda_file, "./sblue/environment/conda.yml");
  assert.equal(sblue.model.type, "custom_model");
  assert.ok(azScripts.notCarried.some((n) => n.what === "environment_variables.PIER_PYTHON"));
  // Left unpinned in the project's conda file: pinned to what ran here, where it was installed.
  const pins = azScripts.chosen.find((c) => c.deployment === "sblue" && c.what.startsWith("pins "))!;
  assert.match(pins.what, /^pins scikit-learn==\d+\.\d+\.\d+, joblib==\d+\.\d+\.\d+$/);
  const conda = readFileSync(join(azScripts.dir, "sblue/environment/conda.yml"), "utf8");
  assert.match(conda, /- scikit-learn==\d+\.\d+\.\d+\n/);
  assert.ok(azScripts.notCarried.some((n) => n.what === "exact versions of azureml-inference-server-http"));

  // Deployed again from the export on a clean home: the same answers to the same requests.
  const again = await servePier(t);
  const redeploy = async (out: string, ep: string, deployment: string) => {
    assert.equal((await again.run(["endpoint", "create", "-f", join(out, "endpoint.yml")])).code, 0);
    await deploy(again, join(out, `${deployment}.yml`), "--all-traffic");
    const key = JSON.parse(
      (await again.run(["endpoint", "get-credentials", ep, "-o", "json"])).stdout,
    ).primaryKey;
    return { authorization: `Bearer ${key}` };
  };
  assert.deepEqual(
    await score(again, "fin", await redeploy(azFin.dir, "fin", "blue"), { input_data: finExample }),
    before.fin,
  );
  assert.deepEqual(
    await score(again, "skl", await redeploy(azSk.dir, "skl", "svc"), { input_data: svcExample }),
    before.sk,
  );
  assert.deepEqual(
    await score(again, "scripts", await redeploy(azScripts.dir, "scripts", "sblue"), { data: ROWS }),
    before.scripts,
  );

  // KServe: Triton for the ONNX model (its repository layout written), MLServer for the MLflow
  // model, a container for the script; all checked against the CRD.
  const ksFin = await exported("kserve", "fin", "--storage-uri", "s3://models/fin");
  const modelOf = async (ep: string, deployment: string) =>
    (
      JSON.parse((await pier.run(["deployment", "show", "-e", ep, "-n", deployment, "-o", "json"])).stdout)
        .model as string
    ).split("/")[1]!;
  assert.ok(existsSync(join(ksFin.dir, `blue/triton/${await modelOf("fin", "blue")}/1/model.onnx`)));
  // Triton's config from the graph: pier's model takes one 1-D tensor per column, so no batch dimension.
  const config = readFileSync(
    join(ksFin.dir, `blue/triton/${await modelOf("fin", "blue")}/config.pbtxt`),
    "utf8",
  );
  assert.match(config, /^platform: "onnxruntime_onnx"\nmax_batch_size: 0$/m);
  assert.match(config, /name: "Transaction Type"\n {4}data_type: TYPE_STRING\n {4}dims: \[ -1 \]/);
  assert.match(config, /name: "probabilities"\n {4}data_type: TYPE_FP32\n {4}dims: \[ -1, 2 \]/);
  const isvc = parse(readFileSync(join(ksFin.dir, "fin.yaml"), "utf8"));
  assert.equal(isvc.spec.predictor.model.modelFormat.name, "onnx");
  assert.equal(isvc.spec.predictor.model.protocolVersion, "v2");
  assert.equal(isvc.spec.predictor.containerConcurrency, 4);
  assert.equal(isvc.spec.predictor.timeout, 5);
  assert.equal(isvc.spec.predictor.logger.mode, "all");
  assert.ok(ksFin.notCarried.some((n) => n.what === "mirror_traffic 20 %"));
  const ksSk = await exported("kserve", "skl", "--storage-uri", "gs://bucket/skl");
  const skIsvc = parse(readFileSync(join(ksSk.dir, "skl.yaml"), "utf8"));
  assert.deepEqual(skIsvc.spec.predictor.model.modelFormat, { name: "mlflow" });
  assert.equal(skIsvc.spec.predictor.model.storageUri, "gs://bucket/skl/svc/model");
  // MLServer's settings beside the model, and the label kserve-mlserver's container reads.
  assert.deepEqual(JSON.parse(readFileSync(join(ksSk.dir, "svc/model/model-settings.json"), "utf8")), {
    name: "skl",
    implementation: "mlserver_mlflow.MLflowRuntime",
    parameters: { uri: "./" },
  });
  assert.equal(skIsvc.metadata.labels.modelClass, "mlserver_mlflow.MLflowRuntime");
  const ksScripts = await exported("kserve", "scripts", "--storage-uri", "pvc://models/scripts");
  const scriptIsvc = parse(readFileSync(join(ksScripts.dir, "scripts.yaml"), "utf8"));
  assert.equal(scriptIsvc.spec.predictor.containers[0].name, "kserve-container");
  assert.match(readFileSync(join(ksScripts.dir, "sblue/Dockerfile"), "utf8"), /azmlinfsrv/);

  // The v2 request written for KServe gets the same numbers from pier as the same rows on /score.
  for (const [ep, auth, out, deployment] of [
    ["fin", fin, ksFin.dir, "blue"],
    ["skl", sk, ksSk.dir, "svc"],
  ] as const) {
    const request = JSON.parse(readFileSync(join(out, `${deployment}-request-v2.json`), "utf8")) as {
      inputs: { name: string; data: unknown[] }[];
    };
    const pinned = { ...auth, "azureml-model-deployment": deployment };
    const v2 = await post(
      `${pier.url}/endpoints/${ep}/v2/models/${await modelOf(ep, deployment)}/infer`,
      request,
      pinned,
    );
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    const rows = request.inputs[0]!.data.map((_, i) => request.inputs.map((input) => input.data[i]));
    const columns = request.inputs.map((input) => input.name);
    const scored = await post(
      `${pier.url}/endpoints/${ep}/score`,
      { input_data: { columns, index: rows.map((_, i) => i), data: rows } },
      pinned,
    );
    const flat = (v: unknown): unknown[] =>
      Array.isArray(v) ? v.flatMap(flat) : v && typeof v === "object" ? Object.values(v).flatMap(flat) : [v];
    assert.deepEqual(
      (v2.body.outputs as { data: unknown[] }[])
        .flatMap((o) => o.data)
        .map(String)
        .sort(),
      flat(scored.body).map(String).sort(),
      `${ep}: the v2 answer holds the values /score gives for the same rows`,
    );
  }

  // Edits are checked again: the file, the path in the document, the rule.
  writeFileSync(
    join(azFin.dir, "blue.yml"),
    readFileSync(join(azFin.dir, "blue.yml"), "utf8").replace(
      "instance_count: 1",
      "instance_count: 0\nreplicas: 2",
    ),
  );
  const azCheck = await pier.run(["export", "azureml", "--check", azFin.dir]);
  assert.equal(azCheck.code, 1);
  assert.match(
    azCheck.stdout,
    /✘ \S*blue\.yml \/: 'replicas' is not a known key \[azureml-deployment-schema\]/,
  );
  assert.match(azCheck.stdout, /✘ \S*blue\.yml \/instance_count: must be >= 1 \[azureml-deployment-schema\]/);
  writeFileSync(
    join(ksFin.dir, "fin.yaml"),
    readFileSync(join(ksFin.dir, "fin.yaml"), "utf8").replace("protocolVersion: v2", "protocolVersion: v1"),
  );
  const ksCheck = await pier.run(["export", "kserve", "--check", ksFin.dir]);
  assert.equal(ksCheck.code, 1);
  assert.match(
    ksCheck.stdout,
    /fin\.yaml \/spec\/predictor\/model: kserve-tritonserver does not speak protocol v1 \(v2, grpc-v2\) \[runtime\]/,
  );

  // Refusals: a folder in use, a storage URI KServe cannot read, an endpoint with nothing to export.
  const used = await pier.run(["export", "azureml", "-e", "fin", "--out", azFin.dir]);
  assert.match(used.stderr, /✘ OutputExists: /);
  const badUri = await pier.run([
    "export",
    "kserve",
    "-e",
    "fin",
    "--storage-uri",
    "ftp://x",
    "--out",
    join(dir, "x"),
  ]);
  assert.match(badUri.stderr, /✘ BadArgument: --storage-uri 'ftp:\/\/x' is not a storage URI KServe reads/);
  await endpoint(pier, "empty");
  const empty = await pier.run(["export", "azureml", "-e", "empty", "--out", join(dir, "y")]);
  assert.match(empty.stderr, /✘ NotExportable: Endpoint 'empty' has no deployment to export/);
});
