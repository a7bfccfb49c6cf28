/**
 * Azure's own online-endpoint examples as they are published (Azure/azureml-examples,
 * cli/endpoints/online and sdk/python/endpoints/online), laid out the way they lay them out and
 * deployed as an Azure user would: each asserts the outcome and its code. The model is a scikit-learn
 * Ridge regression dumped with joblib (numpy arrays as raw buffers), as model-1's
 * sklearn_regression_model.pkl is; the scoring scripts load it from AZUREML_MODEL_DIR as the examples do.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import type { DeploymentReport } from "../../src/api/index.js";
import { PIER_BIN, type PierServer, post, REPO_ROOT, servePier } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
const REQUEST = {
  data: [
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    [10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
  ],
};

/** The CLI sample's score.py: the folder model keeps its name under AZUREML_MODEL_DIR. */
const score = (relative: string) => `import json, logging, os
import joblib
import numpy

def init():
    global model
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), ${JSON.stringify(relative)})
    model = joblib.load(model_path)
    logging.info("Init complete")

def run(raw_data):
    data = numpy.array(json.loads(raw_data)["data"])
    result = model.predict(data)
    return result.tolist()
`;

let pier: PierServer;
let root: string;
let expected: number[];
let key: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "pier-azure-examples-"));
  // model-1 as the examples ship it: model/sklearn_regression_model.pkl, onlinescoring/score.py, environment/conda.yaml.
  for (const dir of ["model-1/model", "model-1/onlinescoring", "model-1/environment", "sdk", "other-model"])
    mkdirSync(join(root, dir), { recursive: true });
  expected = JSON.parse(
    execFileSync(
      PYTHON,
      [
        "-c",
        `import json, sys, joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
X, y = load_diabetes(return_X_y=True)
model = Ridge(alpha=0.5).fit(X, y)
joblib.dump(model, sys.argv[1] + "/model-1/model/sklearn_regression_model.pkl")
joblib.dump(Ridge(alpha=5).fit(X, y), sys.argv[1] + "/other-model/sklearn_regression_model.pkl")
print(json.dumps(model.predict(json.loads(sys.argv[2])["data"]).tolist()))`,
        root,
        JSON.stringify(REQUEST),
      ],
      { encoding: "utf8" },
    ),
  );
  writeFileSync(join(root, "model-1/onlinescoring/score.py"), score("model/sklearn_regression_model.pkl"));
  writeFileSync(join(root, "sdk/score.py"), score("sklearn_regression_model.pkl"));
  writeFileSync(
    join(root, "model-1/environment/conda.yaml"),
    stringify({
      name: "model-env",
      channels: ["conda-forge"],
      dependencies: [
        "python",
        "numpy",
        "scikit-learn",
        "scipy",
        { pip: ["azureml-defaults", "inference-schema[numpy-support]", "joblib"] },
      ],
    }),
  );
  writeFileSync(join(root, "sample-request.json"), JSON.stringify(REQUEST));
  writeFileSync(join(root, "model-1/sample-request.json"), JSON.stringify(REQUEST));
  pier = await servePier();
  const endpoint = join(root, "endpoint.yml");
  writeFileSync(
    endpoint,
    stringify({
      $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json",
      name: "my-endpoint",
      auth_mode: "key",
    }),
  );
  assert.equal((await pier.run(["endpoint", "create", "-f", endpoint])).code, 0);
  key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "my-endpoint", "-o", "json"])).stdout,
  ).primaryKey;
});

after(async () => {
  await pier?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Writes a deployment YAML beside the examples' folders and creates it; the view and what the CLI said. */
async function deploy(name: string, doc: Record<string, unknown>) {
  const file = join(root, `${name}.yml`);
  writeFileSync(
    file,
    stringify({
      $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
      name,
      endpoint_name: "my-endpoint",
      ...doc,
    }),
  );
  const created = await pier.run(["deployment", "create", "-f", file, "-o", "json"]);
  assert.ok(created.stdout.trim().startsWith("{"), created.stdout + created.stderr);
  return { view: JSON.parse(created.stdout) as DeploymentReport, stderr: created.stderr };
}

const scoreOn = (deployment: string) =>
  post(`${pier.url}/endpoints/my-endpoint/score`, REQUEST, {
    authorization: `Bearer ${key}`,
    "azureml-model-deployment": deployment,
  });

const sampleEnvironment = {
  conda_file: "model-1/environment/conda.yaml",
  image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
};

test("managed/sample/blue-deployment.yml: a folder model, its score.py and conda file serve the exact predictions", async () => {
  const { view, stderr } = await deploy("blue", {
    model: { path: "model-1/model/" },
    code_configuration: { code: "model-1/onlinescoring/", scoring_script: "score.py" },
    environment: sampleEnvironment,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(view.provisioning_state, "Succeeded", stderr);
  const answer = await scoreOn("blue");
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.deepEqual(answer.body, expected);
});

test('the SDK\'s Model(path="….pkl"): a single-file model lands in AZUREML_MODEL_DIR itself', async () => {
  const { view, stderr } = await deploy("sdkfile", {
    model: { path: "model-1/model/sklearn_regression_model.pkl" },
    code_configuration: { code: "sdk", scoring_script: "score.py" },
    environment: sampleEnvironment,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(view.provisioning_state, "Succeeded", stderr);
  assert.deepEqual((await scoreOn("sdkfile")).body, expected);
  // Registered as Azure would: a custom model of one file.
  const models = JSON.parse((await pier.run(["model", "list", "-o", "json"])).stdout) as { name: string }[];
  assert.ok(models.some((m) => m.name === "my-endpoint-sdkfile"));
  const shown = JSON.parse(
    (await pier.run(["model", "show", "models:/my-endpoint-sdkfile/1", "-o", "json"])).stdout,
  );
  assert.deepEqual([shown.version.type, shown.version.sourceKind], ["custom_model", "file"]);
});

test("an inline versioned model on an empty registry is that version; the same files reuse it, other files are refused naming both", async () => {
  const inline = (path: string) => ({
    model: { name: "sklearn-regression", version: 2, path },
    code_configuration: { code: "model-1/onlinescoring/", scoring_script: "score.py" },
    environment: sampleEnvironment,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  const first = await deploy("versioned", inline("model-1/model"));
  assert.equal(first.view.provisioning_state, "Succeeded", first.stderr);
  assert.equal(first.view.model, "models:/sklearn-regression/2");
  assert.deepEqual((await scoreOn("versioned")).body, expected);
  const again = await deploy("versioned2", inline("model-1/model"));
  assert.equal(again.view.model, "models:/sklearn-regression/2");
  assert.match(again.stderr, /registered already: that version is used/);
  mkdirSync(join(root, "changed/model"), { recursive: true });
  execFileSync("cp", [join(root, "other-model/sklearn_regression_model.pkl"), join(root, "changed/model/")]);
  const clash = await deploy("clash", inline("changed/model"));
  assert.equal(clash.view.provisioning_state, "Failed");
  assert.equal(clash.view.error?.code, "ModelVersionConflict");
  assert.match(
    clash.view.error!.summary,
    /version 2 is registered already with other files: .*model-1\/model/,
  );
  assert.match(clash.view.error!.summary, /changed\/model differs/);
  // A label as Azure allows one.
  const labelled = await deploy("labelled", {
    ...inline("changed/model"),
    model: { name: "sklearn-regression", version: "v3", path: "changed/model" },
  });
  assert.equal(labelled.view.provisioning_state, "Succeeded", labelled.stderr);
  assert.match(labelled.stderr, /version v3/);
});

test("a Kubernetes online deployment: Key auth, no instance_type or count, utilization scaling, resources — accepted", async () => {
  const endpoint = join(root, "k8s-endpoint.yml");
  writeFileSync(
    endpoint,
    stringify({
      $schema: "https://azuremlschemas.azureedge.net/latest/kubernetesOnlineEndpoint.schema.json",
      name: "k8s-endpoint",
      compute: "azureml:k8s-compute",
      auth_mode: "Key",
    }),
  );
  const created = await pier.run(["endpoint", "create", "-f", endpoint]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(
    created.stderr,
    /'compute' is accepted but not honoured locally \(in Azure, the Kubernetes cluster/,
  );
  const file = join(root, "k8s-blue.yml");
  writeFileSync(
    file,
    stringify({
      $schema: "https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json",
      name: "blue",
      type: "kubernetes",
      endpoint_name: "k8s-endpoint",
      model: { path: "model-1/model/" },
      code_configuration: { code: "model-1/onlinescoring/", scoring_script: "score.py" },
      environment: sampleEnvironment,
      request_settings: {
        request_timeout_ms: 3000,
        max_concurrent_requests_per_instance: 1,
        max_queue_wait_ms: 3000,
      },
      resources: { requests: { cpu: "0.1", memory: "0.1Gi" }, limits: { cpu: "0.2", memory: "1Gi" } },
      scale_settings: {
        type: "target_utilization",
        min_instances: 1,
        max_instances: 2,
        polling_interval: 10,
        target_utilization_percentage: 70,
      },
      tags: { tag1: "deployment-tag1-value" },
      properties: { prop1: "deployment-prop1-value" },
    }),
  );
  const k8s = await pier.run(["deployment", "create", "-f", file, "-o", "json"]);
  const view = JSON.parse(k8s.stdout) as DeploymentReport;
  assert.equal(view.provisioning_state, "Succeeded", k8s.stderr);
  assert.equal(view.instance_count, 1, "min_instances");
  assert.match(
    k8s.stderr,
    /no instance_type: as on an attached cluster, the deployment gets defaultinstancetype/,
  );
  assert.doesNotMatch(k8s.stderr, /not a known key/);
});

test("what one machine cannot run is named as its own cause, with what would run it", async () => {
  const r = await deploy("r-deployment", {
    model: { name: "plumber", version: 1, path: "model-1/model" },
    environment: {
      name: "r-environment",
      version: 1,
      image: "myacr.azurecr.io/r_server",
      inference_config: {
        liveness_route: { port: 8000, path: "/live" },
        readiness_route: { port: 8000, path: "/ready" },
        scoring_route: { port: 8000, path: "/score" },
      },
    },
    instance_type: "Standard_F2s_v2",
    instance_count: 1,
  });
  assert.equal(r.view.error?.code, "CustomContainerUnsupported");
  assert.match(r.view.error!.summary, /an R \(plumber\) server/);
  const tf = await deploy("tfserving-deployment", {
    model: { name: "tfserving-mounted", version: 1, path: "model-1/model" },
    environment_variables: {
      MODEL_BASE_PATH: "/var/azureml-app/azureml-models/tfserving-mounted/1",
      MODEL_NAME: "half_plus_two",
    },
    environment: {
      image: "docker.io/tensorflow/serving:latest",
      inference_config: {
        liveness_route: { port: 8501, path: "/v1/models/half_plus_two" },
        readiness_route: { port: 8501, path: "/v1/models/half_plus_two" },
        scoring_route: { port: 8501, path: "/v1/models/half_plus_two:predict" },
      },
    },
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(tf.view.error?.code, "CustomContainerUnsupported");
  assert.match(tf.view.error!.summary, /TF Serving/);
  assert.match(tf.view.error!.fix ?? "", /TF Serving runtime serves the same model \(pier export kserve\)/);
  const docker = await deploy("dockerbuild", {
    model: { path: "model-1/model" },
    environment: {
      build: { path: "docker-context", dockerfile_path: "Dockerfile" },
      inference_config: { scoring_route: { port: 5001, path: "/score" } },
    },
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(docker.view.error?.code, "CustomContainerUnsupported");
  assert.match(docker.view.error!.summary, /a Dockerfile build/);
  const triton = await deploy("triton", {
    model: { name: "sample-densenet-onnx-model", version: 1, path: "model-1/model", type: "triton_model" },
    instance_type: "Standard_NC6s_v3",
    instance_count: 1,
  });
  assert.equal(triton.view.error?.code, "TritonModelUnsupported");
  assert.match(triton.stderr, /GpuNotAvailable: .*Standard_NC6s_v3 has 1 V100 GPU\(s\)/);
  assert.doesNotMatch(triton.stderr, /not a VM size pier knows/);

  // The keyvault example's script authenticates as the deployment's managed identity.
  mkdirSync(join(root, "kv-code"), { recursive: true });
  writeFileSync(
    join(root, "kv-code/score.py"),
    `from azure.identity import ManagedIdentityCredential\nfrom azure.keyvault.secrets import SecretClient\nimport os\n\ndef init():\n    global secret\n    credential = ManagedIdentityCredential()\n    secret = SecretClient(vault_url=os.getenv("KV_URL"), credential=credential).get_secret("foo")\n\ndef run(data):\n    return secret.value\n`,
  );
  const kv = await deploy("kvdep", {
    model: { path: "." },
    code_configuration: { code: "kv-code", scoring_script: "score.py" },
    environment: sampleEnvironment,
    environment_variables: { KV_SECRET_MULTIPLIER: "multiplier@https://mykv.vault.azure.net" },
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(kv.view.error?.code, "IdentityUnavailable");
  assert.match(kv.view.error!.fix ?? "", /DefaultAzureCredential/);
  // Each names its cause in the doctor too, fast.
  const doctor = JSON.parse((await pier.run(["doctor", "my-endpoint", "kvdep", "-o", "json"])).stdout)[0];
  assert.equal(doctor.diagnoses[0].code, "IdentityUnavailable");
});

test("a joblib model whose array bytes look like an opcode loads: the scan does not invent a module", async () => {
  mkdirSync(join(root, "trap/model"), { recursive: true });
  execFileSync(PYTHON, [
    join(REPO_ROOT, "test/tools/make_joblib.py"),
    "trap",
    join(root, "trap/model/model.pkl"),
  ]);
  mkdirSync(join(root, "trap/code"), { recursive: true });
  writeFileSync(
    join(root, "trap/code/score.py"),
    `import json, os, joblib\n\ndef init():\n    global model\n    model = joblib.load(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model", "model.pkl"))["model"]\n\ndef run(raw):\n    return model.predict(json.loads(raw)["data"]).tolist()\n`,
  );
  const { view, stderr } = await deploy("trap", {
    model: { path: "trap/model" },
    code_configuration: { code: "trap/code", scoring_script: "score.py" },
    environment: sampleEnvironment,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(view.provisioning_state, "Succeeded", stderr);
  assert.doesNotMatch(stderr, /ModuleNotShipped|lfq3c/);
  const answer = await post(
    `${pier.url}/endpoints/my-endpoint/score`,
    { data: [[0.1, 0.2, 0.3, 0.4]] },
    { authorization: `Bearer ${key}`, "azureml-model-deployment": "trap" },
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
});

/** Runs a bash script (Azure's sample scripts are bash) with `az` as `pier az`, against this pier. */
function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn("bash", ["-c", `az() { "${process.execPath}" "${PIER_BIN}" az "$@"; }\n${script}`], {
      cwd: root,
      env: { ...process.env, PIER_HOME: pier.home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}

test("Azure's sample scripts run unchanged with az as `pier az`: create, --all-traffic, --query -o tsv, invoke, curl, --set, safe rollout, delete --yes", async () => {
  // The YAML of cli/endpoints/online/managed/sample, beside model-1 as the repository lays them out.
  mkdirSync(join(root, "managed/sample"), { recursive: true });
  writeFileSync(
    join(root, "managed/sample/endpoint.yml"),
    stringify({
      $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json",
      name: "my-endpoint",
      auth_mode: "key",
    }),
  );
  for (const color of ["blue", "green"])
    writeFileSync(
      join(root, `managed/sample/${color}-deployment.yml`),
      stringify({
        $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json",
        name: color,
        endpoint_name: "my-endpoint",
        model: { path: "../../model-1/model/" },
        code_configuration: { code: "../../model-1/onlinescoring/", scoring_script: "score.py" },
        environment: {
          conda_file: "../../model-1/environment/conda.yaml",
          image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
        },
        instance_type: "Standard_DS3_v2",
        instance_count: 1,
      }),
    );
  // Assets registered first, then named by a deployment (azureml:NAME:VERSION), as the SDK samples do.
  writeFileSync(
    join(root, "managed/sample/environment.yml"),
    stringify({
      $schema: "https://azuremlschemas.azureedge.net/latest/environment.schema.json",
      name: "sklearn-env",
      version: 1,
      image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
      conda_file: "../../model-1/environment/conda.yaml",
    }),
  );
  writeFileSync(
    join(root, "managed/sample/asset-deployment.yml"),
    stringify({
      name: "assets",
      endpoint_name: "my-endpoint",
      model: "azureml:sklearn-regression:1",
      code_configuration: { code: "../../model-1/onlinescoring/", scoring_script: "score.py" },
      environment: "azureml:sklearn-env:1",
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
    }),
  );
  const run = await bash(`set -e
export ENDPOINT_NAME=endpt-moe-$RANDOM
az ml online-endpoint create --name $ENDPOINT_NAME -f managed/sample/endpoint.yml -o none
az ml online-deployment create --name blue --endpoint $ENDPOINT_NAME -f managed/sample/blue-deployment.yml --all-traffic -o none
endpoint_status=\`az ml online-endpoint show --name $ENDPOINT_NAME --query "provisioning_state" -o tsv\`
echo "endpoint: $endpoint_status"
deploy_status=\`az ml online-deployment show --name blue --endpoint $ENDPOINT_NAME --query "provisioning_state" -o tsv\`
echo "deployment: $deploy_status"
echo "invoke: $(az ml online-endpoint invoke --name $ENDPOINT_NAME --request-file model-1/sample-request.json)"
ENDPOINT_KEY=$(az ml online-endpoint get-credentials -n $ENDPOINT_NAME -o tsv --query primaryKey)
SCORING_URI=$(az ml online-endpoint show -n $ENDPOINT_NAME -o tsv --query scoring_uri)
echo "curl: $(curl -s --request POST "$SCORING_URI" --header "Authorization: Bearer $ENDPOINT_KEY" --header 'Content-Type: application/json' --data @model-1/sample-request.json)"
echo "count: $(az ml online-deployment update --name blue --endpoint $ENDPOINT_NAME --set instance_count=2 --query instance_count -o tsv)"
az ml online-deployment get-logs --name blue --endpoint $ENDPOINT_NAME --lines 200 | grep -c "init has completed" | sed 's/^/inits: /'
az ml online-deployment create --name green --endpoint $ENDPOINT_NAME -f managed/sample/green-deployment.yml -o none
az ml online-endpoint update --name $ENDPOINT_NAME --mirror-traffic "green=10" -o none
echo "green: $(az ml online-endpoint invoke --name $ENDPOINT_NAME --deployment-name green --request-file model-1/sample-request.json -o tsv)"
az ml online-endpoint update --name $ENDPOINT_NAME --mirror-traffic "green=0" -o none
echo "traffic: $(az ml online-endpoint update --name $ENDPOINT_NAME --traffic "blue=0 green=100" --query traffic -o json | tr -d ' \n')"
az ml online-deployment delete --name blue --endpoint $ENDPOINT_NAME --yes --no-wait
echo "left: $(az ml online-deployment list -e $ENDPOINT_NAME --query "[].name" -o tsv)"
az ml model create --name sklearn-regression --version 1 --path model-1/model -o none
az ml environment create -f managed/sample/environment.yml -o none
echo "model: $(az ml model show -n sklearn-regression -v 1 --query "[type, version]" -o tsv | paste -sd ' ')"
echo "assets: $(az ml online-deployment create -f managed/sample/asset-deployment.yml -e $ENDPOINT_NAME --query provisioning_state -o tsv)"
az ml online-endpoint delete --name $ENDPOINT_NAME --yes --no-wait
echo "endpoints: $(az ml online-endpoint list --query "[?name=='$ENDPOINT_NAME'] | length(@)")"
`);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const said = Object.fromEntries(
    run.stdout
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
  );
  assert.equal(said.endpoint, "Succeeded");
  assert.equal(said.deployment, "Succeeded");
  // az prints the answer as a JSON string; the body itself is the model's predictions.
  assert.deepEqual(JSON.parse(JSON.parse(said.invoke!)), expected);
  assert.deepEqual(JSON.parse(said.curl!), expected);
  assert.deepEqual(JSON.parse(said.green!), expected);
  assert.equal(said.count, "2");
  assert.equal(said.inits, "2", "both instances of blue ran init()");
  assert.equal(JSON.parse(said.traffic!).green, 100);
  assert.equal(said.left, "green");
  assert.equal(said.model, "custom_model 1");
  assert.equal(said.assets, "Succeeded", run.stderr);
  assert.equal(said.endpoints, "0");
});

test("pier az refuses as az does (no tty to confirm a delete, an ambiguous option, a missing --name); --name over -f wins", async () => {
  const noYes = await bash("az ml online-endpoint delete --name my-endpoint");
  assert.equal(noYes.code, 2);
  assert.match(noYes.stderr, /unable to prompt for confirmation as no tty is available[\s\S]*--yes/);
  const ambiguous = await bash("az ml online-deployment create --endpoint my-endpoint --lo -f x.yml");
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /ambiguous option: --lo could match --local, --local-enable-gpu/);
  const missing = await bash("az ml online-endpoint show");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /the following arguments are required: --name\/-n/);
  const badQuery = await bash("az ml online-endpoint list --query '[?'");
  assert.equal(badQuery.code, 2);
  assert.match(badQuery.stderr, /argument --query: invalid jmespath_type value/);
  // pier's own verbs take a flag over the file the same way: never silently dropped.
  const renamed = await pier.run([
    "endpoint",
    "create",
    "--name",
    "renamed-ep",
    "-f",
    join(root, "endpoint.yml"),
    "-o",
    "json",
  ]);
  assert.equal(JSON.parse(renamed.stdout).name, "renamed-ep", renamed.stderr);
  // The endpoint is still there: nothing was deleted without the answer.
  assert.equal(
    (await bash("az ml online-endpoint show -n my-endpoint --query name -o tsv")).stdout.trim(),
    "my-endpoint",
  );
});

test("the doctor connects its evidence: a missing code/ folder, an unfetched VCS requirement, the files AZUREML_MODEL_DIR holds, an allocation refused", async () => {
  const doctorOf = async (name: string) =>
    JSON.parse((await pier.run(["doctor", "my-endpoint", name, "-o", "json"])).stdout)[0].diagnoses[0];
  // An MLflow model whose pickle needs the project's own module, logged with code_paths (MLmodel's
  // `code: code`) but copied without its code/ folder.
  mkdirSync(join(root, "codefold/src"), { recursive: true });
  mkdirSync(join(root, "codefold/model"), { recursive: true });
  writeFileSync(
    join(root, "codefold/src/bank_features.py"),
    "import numpy as np\nfrom sklearn.base import BaseEstimator, TransformerMixin\n\nclass LogAmount(BaseEstimator, TransformerMixin):\n    def fit(self, X, y=None):\n        return self\n    def transform(self, X):\n        return np.log1p(np.abs(np.asarray(X, dtype=float)))\n",
  );
  execFileSync(
    PYTHON,
    [
      "-c",
      `import pickle, sys, numpy as np, sklearn
sys.path.insert(0, "codefold/src")
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from bank_features import LogAmount
X = np.random.RandomState(0).rand(50, 3) * 100
pickle.dump(make_pipeline(LogAmount(), LogisticRegression()).fit(X, X[:, 0] > 50), open("codefold/model/model.pkl", "wb"))
open("codefold/model/MLmodel", "w").write(f"""flavors:
  python_function:
    code: code
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.2
  sklearn:
    code: code
    pickled_model: model.pkl
    serialization_format: pickle
    sklearn_version: {sklearn.__version__}
mlflow_version: 2.9.2
""")`,
    ],
    { cwd: root },
  );
  const codefold = await deploy("codefold", {
    model: { path: "codefold/model" },
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(codefold.view.provisioning_state, "Failed");
  const missingFolder = await doctorOf("codefold");
  assert.equal(missingFolder.code, "ModuleNotShipped");
  assert.match(
    missingFolder.cause,
    /logged under code\/ \(python_function code: code\), and the package has no code\/ folder/,
  );
  assert.doesNotMatch(missingFolder.fix, /pin|PyPI/i);

  // A scoring script importing a package its conda file takes from git, which was never fetched.
  mkdirSync(join(root, "vcs"), { recursive: true });
  writeFileSync(
    join(root, "vcs/score.py"),
    "import mylib\n\ndef init():\n    pass\n\ndef run(raw):\n    return mylib.go(raw)\n",
  );
  writeFileSync(
    join(root, "vcs/conda.yml"),
    stringify({
      name: "vcs",
      dependencies: [
        "python",
        "numpy",
        "scikit-learn",
        { pip: ["git+https://github.com/example-org/mylib.git@v1.0"] },
      ],
    }),
  );
  const vcs = await deploy("vcs", {
    model: { path: "model-1/model" },
    code_configuration: { code: "vcs", scoring_script: "score.py" },
    environment: { conda_file: "vcs/conda.yml" },
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.doesNotMatch(vcs.stderr, /RequirementMalformed/, "a VCS URL without #egg is what pip accepts");
  const unfetched = await doctorOf("vcs");
  assert.equal(unfetched.code, "RequirementDirectReference");
  assert.match(
    unfetched.cause,
    /'mylib' could not be imported: mylib is asked for as git\+https:\/\/github.com\/example-org\/mylib.git@v1.0/,
  );

  // The CLI sample's score.py with the SDK's single-file path: the folder model keeps its name.
  const fnf = await deploy("fnf", {
    model: { path: "model-1/model/" },
    code_configuration: { code: "sdk", scoring_script: "score.py" },
    environment: sampleEnvironment,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  assert.equal(fnf.view.error?.code, "UserScriptInitFailed");
  const notThere = await doctorOf("fnf");
  assert.ok(
    notThere.evidence.some((l: string) =>
      /AZUREML_MODEL_DIR holds 1 file\(s\) of .*: model\/sklearn_regression_model.pkl/.test(l),
    ),
    notThere.evidence.join("\n"),
  );
  assert.match(
    notThere.fix,
    /os.path.join\(os.getenv\("AZUREML_MODEL_DIR"\), "model", "sklearn_regression_model.pkl"\)/,
  );

  // init() asks numpy for more than any machine here has: refused at once, named as memory.
  mkdirSync(join(root, "big"), { recursive: true });
  writeFileSync(
    join(root, "big/score.py"),
    "import numpy\n\ndef init():\n    global table\n    table = numpy.ones((2**40,))\n\ndef run(raw):\n    return 1\n",
  );
  await deploy("big", {
    model: { path: "model-1/model/" },
    code_configuration: { code: "big", scoring_script: "score.py" },
    environment: sampleEnvironment,
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
  });
  const refused = await doctorOf("big");
  assert.equal(refused.code, "OutOfMemory");
  assert.match(refused.cause, /asked for 8192.0 GiB at once while loading and was refused/);
  assert.match(refused.fix, /This machine cannot give it/);
});
