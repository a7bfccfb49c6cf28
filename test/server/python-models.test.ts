import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import type { DoctorReport } from "../../src/doctor/index.js";
import type { DeploymentView } from "../../src/engine/index.js";
import { type Cleanups, FIXTURES, post, type RunningPier, servePier, tempDir, waitFor } from "../helpers.js";

/** The interpreter the tests pin (Debian's, with python3-sklearn), so expectations come from the same one. */
const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";

async function deployFolder(pier: RunningPier, dir: string, endpoint: string, name: string, folder: string) {
  const file = join(dir, `${name}.yml`);
  writeFileSync(
    file,
    stringify({
      name,
      endpoint_name: endpoint,
      model: folder,
      instance_type: "Standard_DS2_v2",
      instance_count: 1,
      environment_variables: { PIER_PYTHON: PYTHON },
    }),
  );
  const result = await pier.run(["deployment", "create", "-f", file, "-o", "json"]);
  return { ...result, view: JSON.parse(result.stdout) as DeploymentView };
}

/** What scikit-learn itself says for rows of a fixture's pickle: predictions, or the exception. */
function sklearnReference(
  folder: string,
  rows: unknown[][],
  columns: string[] | null,
): { predictions?: unknown[]; error?: string } {
  const script = `
import json, pickle, sys, warnings
warnings.simplefilter("ignore")
folder, rows, columns = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
model = pickle.load(open(folder + "/model.pkl", "rb"))
try:
    if columns:
        import pandas
        data = pandas.DataFrame(rows, columns=columns)
    else:
        import numpy
        data = numpy.asarray(rows)
    print(json.dumps({"predictions": model.predict(data).tolist()}))
except Exception as error:
    print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
`;
  return JSON.parse(
    execFileSync(PYTHON, ["-c", script, folder, JSON.stringify(rows), JSON.stringify(columns)], {
      encoding: "utf8",
    }),
  );
}

async function withEndpoint(t: Cleanups) {
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "python"])).code, 0);
  const key = JSON.parse((await pier.run(["endpoint", "get-credentials", "python", "-o", "json"])).stdout)
    .primaryKey as string;
  return { pier, auth: { authorization: `Bearer ${key}` }, dir: tempDir(t) };
}

test("MLflow sklearn models serve what scikit-learn itself gives, or fail at startup with its exception", async (t) => {
  const { pier, auth, dir } = await withEndpoint(t);

  const svcFolder = join(FIXTURES, "mlflow/svc-tensor-output");
  const svc = await deployFolder(pier, dir, "python", "svc", svcFolder);
  assert.equal(svc.view.provisioning_state, "Succeeded", svc.stdout + svc.stderr);
  assert.match(svc.stderr, /runtime python \(.*Python 3\.\d+/);
  assert.match(
    svc.stderr,
    /⚠ environment +PythonVersionMismatch: conda\.yaml pins Python 3\.7; \S+ is Python 3\.\d+\.\d+ \(the model was saved with Python 3\.7\.11\)/,
  );
  const example = JSON.parse(readFileSync(join(svcFolder, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const expected = sklearnReference(svcFolder, example.data, example.columns);
  assert.ok(expected.predictions, expected.error);
  const pinned = { ...auth, "azureml-model-deployment": "svc" };
  const scored = await post(`${pier.url}/endpoints/python/score`, { input_data: example }, pinned);
  assert.equal(scored.status, 200, JSON.stringify(scored.body));
  assert.deepEqual(scored.body, expected.predictions);
  const records = example.data.map((row) => Object.fromEntries(example.columns.map((c, i) => [c, row[i]])));
  const invoked = await post(
    `${pier.url}/endpoints/python/invocations`,
    { dataframe_records: records },
    pinned,
  );
  assert.deepEqual(invoked.body, { predictions: expected.predictions });
  const bad = await post(
    `${pier.url}/endpoints/python/score`,
    { input_data: [{ ...records[0], sepal_width: "wide" }] },
    pinned,
  );
  assert.equal(bad.status, 400);
  const logs = await pier.run(["deployment", "get-logs", "-e", "python", "-n", "svc"]);
  assert.match(
    logs.stdout,
    /unpickling .*model\.pkl \(cloudpickle\); loading a pickle runs the code it contains/,
  );
  assert.match(logs.stdout, /startup prediction passed on \d+ row\(s\)/);

  const creditFolder = join(FIXTURES, "mlflow/credit-defaults-gbc");
  const row = [20000, 2, 2, 1, 24, 2, 2, -1, -1, -2, -2, 3913, 3102, 689, 0, 0, 0, 0, 689, 0, 0, 0, 0];
  const reference = sklearnReference(creditFolder, [row], null);
  const credit = await deployFolder(pier, dir, "python", "credit", creditFolder);
  assert.match(credit.stderr, /PickleVersionDrift: The pickle was made by scikit-learn 0\.24\.2/);
  if (reference.error) {
    // This interpreter's scikit-learn cannot use the 0.24.2 pickle: pier must say so at startup, not at the first request.
    assert.equal(credit.view.provisioning_state, "Failed");
    // One code everywhere: the doctor's, which knows the pickle was made by another scikit-learn.
    assert.equal(credit.view.error?.code, "PickleVersionDrift");
    assert.ok(
      credit.view.error?.summary.includes(reference.error.split(": ").slice(1).join(": ")),
      `${credit.view.error?.summary} vs ${reference.error}`,
    );
  } else {
    assert.equal(credit.view.provisioning_state, "Succeeded");
    const answer = await post(
      `${pier.url}/endpoints/python/score`,
      { input_data: [row] },
      { ...auth, "azureml-model-deployment": "credit" },
    );
    assert.deepEqual(answer.body, reference.predictions);
  }
});

test("fixtures that cannot run end Failed with their specific cause, never a hang", async (t) => {
  const { pier, dir } = await withEndpoint(t);
  const cases: [string, string, RegExp][] = [
    ["iris-legacy-sklearn", "EnvFileMissing", /MLmodel references conda\.yaml/],
    [
      "lightgbm-iris",
      "PackageMissing",
      /^lightgbm==\S+ \(requirements\.txt\) is not installed in .*could not build an environment with the model's pins: No package index is reachable/s,
    ],
    [
      "seed-financial-behavior-broken",
      "ArtifactMissing",
      /model\.pkl.*\(and 1 more: EnvironmentUnresolvable\)/,
    ],
  ];
  for (const [fixture, code, summary] of cases) {
    const started = Date.now();
    const result = await deployFolder(
      pier,
      dir,
      "python",
      fixture.split("-")[0]!,
      join(FIXTURES, "mlflow", fixture),
    );
    assert.equal(result.code, 1, fixture);
    assert.equal(result.view.provisioning_state, "Failed", fixture);
    assert.equal(result.view.error?.code, code, fixture);
    assert.match(`${result.view.error?.summary}\n${result.view.error?.details.join("\n")}`, summary, fixture);
    assert.ok(result.view.error?.fix, `${fixture} has a fix`);
    assert.ok(Date.now() - started < 30_000, `${fixture} failed fast`);
  }
  const shown = await pier.run(["deployment", "show", "-e", "python", "-n", "lightgbm"]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /✘ PackageMissing/);
});

test("a python_function model with its own loader module serves; a loader that raises fails with its traceback", async (t) => {
  const { pier, auth, dir } = await withEndpoint(t);
  const model = (name: string, loader: string) => {
    const folder = join(dir, name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, "MLmodel"),
      stringify({
        flavors: {
          python_function: { loader_module: "doubler_loader", python_version: "3.11.2", data: "params.json" },
        },
        signature: { inputs: JSON.stringify([{ name: "x", type: "double" }]), outputs: null },
      }),
    );
    writeFileSync(join(folder, "params.json"), JSON.stringify({ factor: 2 }));
    writeFileSync(join(folder, "doubler_loader.py"), loader);
    return folder;
  };
  const good = model(
    "doubler",
    `import json\nclass Doubler:\n    def __init__(self, factor):\n        self.factor = factor\n    def predict(self, frame):\n        return [v * self.factor for v in frame["x"]]\ndef _load_pyfunc(path):\n    return Doubler(json.load(open(path))["factor"])\n`,
  );
  const ok = await deployFolder(pier, dir, "python", "doubler", good);
  assert.equal(ok.view.provisioning_state, "Succeeded", ok.stdout + ok.stderr);
  const scored = await post(
    `${pier.url}/endpoints/python/score`,
    { input_data: [{ x: 1.5 }, { x: 4 }] },
    { ...auth, "azureml-model-deployment": "doubler" },
  );
  assert.deepEqual(scored.body, [3, 8]);

  const broken = model(
    "broken",
    `def _load_pyfunc(path):\n    raise RuntimeError("weights file is corrupt")\n`,
  );
  const failed = await deployFolder(pier, dir, "python", "broken", broken);
  assert.equal(failed.view.provisioning_state, "Failed");
  assert.equal(failed.view.error?.code, "ModelLoadFailed");
  assert.match(failed.view.error!.summary, /RuntimeError: weights file is corrupt/);
  const logs = await pier.run(["deployment", "get-logs", "-e", "python", "-n", "broken"]);
  assert.match(logs.stdout, /Traceback \(most recent call last\)/);
  assert.match(logs.stdout, /doubler_loader\.py", line 2, in _load_pyfunc/);
});

test("WORKER_COUNT runs worker processes that share the instance's port and its memory limit; a dead worker restarts the instance; none outlives pier", async (t) => {
  const { pier, auth, dir } = await withEndpoint(t);
  const folder = join(FIXTURES, "mlflow/svc-tensor-output");
  const file = join(dir, "workers.yml");
  writeFileSync(
    file,
    stringify({
      name: "workers",
      endpoint_name: "python",
      model: folder,
      instance_type: "Standard_DS2_v2",
      instance_count: 1,
      request_settings: { max_concurrent_requests_per_instance: 4 },
      environment_variables: { PIER_PYTHON: PYTHON, WORKER_COUNT: 2 },
    }),
  );
  const created = await pier.run(["deployment", "create", "-f", file, "-o", "json"]);
  const view = JSON.parse(created.stdout) as DeploymentView;
  assert.equal(view.provisioning_state, "Succeeded", created.stderr);
  const pid = view.instances[0]!.pid;
  const children = () =>
    readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  assert.equal(children().length, 2, "two worker processes");

  const example = JSON.parse(readFileSync(join(folder, "input_example.json"), "utf8")) as {
    columns: string[];
    data: unknown[][];
  };
  const expected = sklearnReference(folder, example.data, example.columns).predictions;
  const url = `${pier.url}/endpoints/python/score`;
  const pinned = { ...auth, "azureml-model-deployment": "workers" };
  const answers = await Promise.all(
    Array.from({ length: 8 }, () => post(url, { input_data: example }, pinned)),
  );
  for (const answer of answers) assert.deepEqual(answer.body, expected);

  const shown = JSON.parse(
    (await pier.run(["deployment", "show", "-e", "python", "-n", "workers", "-o", "json"])).stdout,
  ) as DeploymentView;
  assert.ok(
    shown.instances[0]!.peak_rss_mib > 100,
    `workers count toward the instance's memory: ${shown.instances[0]!.peak_rss_mib} MiB`,
  );

  process.kill(children()[0]!, "SIGKILL");
  const now = await waitFor(async () => {
    const view = JSON.parse(
      (await pier.run(["deployment", "show", "-e", "python", "-n", "workers", "-o", "json"])).stdout,
    ) as DeploymentView;
    return view.instances[0]!.restarts >= 1 && view.instances[0]!.state === "Ready" ? view : undefined;
  }, "the instance to restart after a worker died");
  assert.equal(now.instances[0]!.last_exit, "exit code 1");
});

test("pier doctor gives each fixture the diagnoses its README implies, after deploying and before (preflight)", async (t) => {
  const { pier, dir } = await withEndpoint(t);
  const doctor = async (args: string[]) => {
    const result = await pier.run(["doctor", ...args, "-o", "json"]);
    const [report] = JSON.parse(result.stdout) as DoctorReport[];
    return {
      codes: report!.diagnoses.map((d) => d.code),
      warnings: report!.warnings.map((w) => w.split(":")[0]),
      report: report!,
    };
  };
  const fixture = (name: string) => join(FIXTURES, "mlflow", name);

  // credit-defaults-gbc: a 0.24.2 pickle; whether this scikit-learn can use it decides the outcome, and
  // either way the doctor names the version drift.
  const credit = await deployFolder(pier, dir, "python", "credit", fixture("credit-defaults-gbc"));
  const creditDoctor = await doctor(["python", "credit"]);
  if (credit.view.provisioning_state === "Failed") {
    assert.deepEqual(creditDoctor.codes, ["PickleVersionDrift"]);
    assert.match(creditDoctor.report.diagnoses[0]!.cause, /made by another scikit-learn/);
    assert.ok(
      creditDoctor.report.diagnoses[0]!.evidence.some((e) => /LoadFailed|PickleVersionDrift/.test(e)),
    );
  } else {
    assert.equal(creditDoctor.report.ok, true);
    assert.ok(creditDoctor.warnings.includes("PickleVersionDrift"));
  }
  assert.ok(creditDoctor.warnings.includes("PackageUnpinned"), "the unpinned mlflow");

  // svc-tensor-output: serves, with version warnings.
  await deployFolder(pier, dir, "python", "svc", fixture("svc-tensor-output"));
  const svc = await doctor(["python", "svc"]);
  assert.equal(svc.report.ok, true, JSON.stringify(svc.report.diagnoses));
  assert.ok(svc.warnings.includes("PickleVersionDrift") && svc.warnings.includes("PythonVersionMismatch"));
  assert.ok(svc.report.checked.some((c) => /provisioning state Succeeded/.test(c)));

  // iris-legacy-sklearn: both real faults, the missing conda.yaml and the pickle's removed module.
  await deployFolder(pier, dir, "python", "iris", fixture("iris-legacy-sklearn"));
  const iris = await doctor(["python", "iris"]);
  assert.deepEqual(iris.codes, ["EnvFileMissing", "PickleVersionDrift"]);
  assert.match(iris.report.diagnoses[1]!.cause, /sklearn\.linear_model\.logistic/);
  assert.deepEqual(
    (await doctor(["--model", fixture("iris-legacy-sklearn")])).codes,
    iris.codes,
    "the preflight agrees",
  );

  // lightgbm-iris: the flavor's library is absent.
  await deployFolder(pier, dir, "python", "lightgbm", fixture("lightgbm-iris"));
  const lightgbm = await doctor(["python", "lightgbm"]);
  // Its library, and mlflow, whose mlflow.lightgbm loader the python_function flavor names: each its own cause.
  assert.deepEqual(lightgbm.codes, ["PackageMissing", "PackageMissing"]);
  assert.match(lightgbm.report.diagnoses[0]!.cause, /^lightgbm==\S+ \(requirements\.txt\) is not installed/);
  assert.match(lightgbm.report.diagnoses[1]!.cause, /^mlflow\S* \(requirements\.txt\) is not installed/);
  assert.ok(lightgbm.warnings.includes("FlavorVersionMismatch"));

  // seed-financial-behavior-broken: the seed's 502s, before anything starts.
  await deployFolder(pier, dir, "python", "seed", fixture("seed-financial-behavior-broken"));
  const seed = await doctor(["python", "seed"]);
  assert.deepEqual(seed.codes, ["ArtifactMissing", "EnvironmentUnresolvable"]);
  assert.match(seed.report.diagnoses[1]!.fix, /pin python=3\.10/);
  assert.deepEqual(seed.report.diagnoses[1]!.actions, [
    { kind: "pin", file: "conda.yaml", requirement: "python==3.10" },
  ]);
  for (const conflict of ["MlflowVersionMismatch", "EnvFilesDisagree", "PythonVersionMismatch"])
    assert.ok(seed.warnings.includes(conflict), `${conflict} among ${seed.warnings}`);
  const preflight = await pier.run(["doctor", "--model", fixture("seed-financial-behavior-broken")]);
  assert.equal(preflight.code, 1);
  assert.match(preflight.stdout, /1\. ✘ ArtifactMissing: MLmodel references model\.pkl/);
  assert.match(preflight.stdout, /How to fix: In conda\.yaml, pin python=3\.10/);
});
