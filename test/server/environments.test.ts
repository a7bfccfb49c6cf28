/**
 * Failures from outside, as other tools and other library versions make them: a pickle written by
 * numpy 2 and scikit-learn 1.7, one that needs a package the model pins but this machine lacks, a
 * scoring-script project whose conda file Azure could not build, an environment missing one small
 * package, the project's own module left out of the package, env files written the many ways users
 * write them, and the fidelity setting. Each asserts the code, the versions in the message and the
 * exact fix. No package index is reachable (builds fail at once, as on a machine without one).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import type { DoctorReport } from "../../src/doctor/index.js";
import { validateModelDir } from "../../src/env/index.js";
import { cli, FIXTURES, type PierServer, post, REPO_ROOT, servePier, tempDir } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
process.env.PIER_PIP_INDEX_URL = "http://127.0.0.1:1/simple";

let pier: PierServer;
before(async () => {
  pier = await servePier();
  assert.equal((await pier.run(["endpoint", "create", "-n", "outside"])).code, 0);
});
after(() => pier.stop());

/** The installed numpy and scikit-learn of the interpreter the tests expect pier to choose. */
const installed = JSON.parse(
  execFileSync(
    PYTHON,
    ["-c", "import json, numpy, sklearn; print(json.dumps([numpy.__version__, sklearn.__version__]))"],
    {
      encoding: "utf8",
    },
  ),
) as [string, string];

/** Writes a pickle made the way `kind` describes (test/tools/make_pickles.py). */
function pickle(kind: string, out: string, pythonPath?: string): void {
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_pickles.py"), kind, out], {
    ...(pythonPath ? { env: { ...process.env, PYTHONPATH: pythonPath } } : {}),
  });
}

/** An MLflow sklearn model folder as MLflow 2 writes it, with `files` beside MLmodel. */
function sklearnModel(
  dir: string,
  options: { sklearnVersion: string; code?: string; files: Record<string, string> },
) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "MLmodel"),
    stringify({
      flavors: {
        python_function: {
          env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
          loader_module: "mlflow.sklearn",
          model_path: "model.pkl",
          predict_fn: "predict",
          python_version: "3.11.4",
          ...(options.code ? { code: options.code } : {}),
        },
        sklearn: {
          pickled_model: "model.pkl",
          serialization_format: "cloudpickle",
          sklearn_version: options.sklearnVersion,
        },
      },
      mlflow_version: "2.22.1",
    }),
  );
  for (const [file, text] of Object.entries(options.files)) writeFileSync(join(dir, file), text);
}

const condaYaml = (pins: string[], python = "3.11.4") =>
  stringify({
    name: "mlflow-env",
    channels: ["conda-forge"],
    dependencies: [`python=${python}`, "pip<=24.0", { pip: pins }],
  });
const pythonEnv = (pins: string[]) => ({
  "python_env.yaml": stringify({
    python: "3.11.4",
    build_dependencies: ["pip"],
    dependencies: ["-r requirements.txt"],
  }),
  "requirements.txt": `${pins.join("\n")}\n`,
});

/** `pier doctor --model DIR` in this process: the preflight, nothing started or built. */
async function preflight(dir: string, ...flags: string[]): Promise<DoctorReport> {
  const result = await cli(["doctor", "--model", dir, ...flags, "-o", "json"], dir, { PIER_HOME: pier.home });
  return (JSON.parse(result.stdout) as DoctorReport[])[0]!;
}

test("a pickle written by numpy 2 is a numpy version mismatch naming both versions, not a missing package", async (t) => {
  const dir = join(tempDir(t), "numpy2-model");
  const pins = ["mlflow==2.22.1", "numpy==2.2.6", "scikit-learn==1.7.1", "scipy==1.15.2"];
  sklearnModel(dir, {
    sklearnVersion: "1.7.1",
    files: { "conda.yaml": condaYaml(pins), ...pythonEnv(pins) },
  });
  pickle("numpy2", join(dir, "model.pkl"));
  const report = await preflight(dir);
  const [first] = report.diagnoses;
  assert.equal(first!.code, "NumpyAbiConflict", JSON.stringify(report.diagnoses, null, 1));
  assert.match(first!.cause, /written with numpy 2 \(it imports numpy\._core\.multiarray\._reconstruct\)/);
  assert.match(first!.cause, new RegExp(`has numpy ${installed[0]!.replaceAll(".", "\\.")}`));
  assert.match(first!.cause, /the model pins numpy 2\.2\.6/);
  assert.match(
    first!.cause,
    /pier could not build an environment with the model's pins: No package index is reachable/,
  );
  assert.match(first!.fix, new RegExp(`numpy==2\\.2\\.6 is pinned; run \`pier env build --model ${dir}\``));
  assert.deepEqual(first!.actions, [{ kind: "command", command: `pier env build --model ${dir}` }]);
  assert.ok(
    !report.diagnoses.some((d) => d.code === "PackageMissing"),
    "numpy is installed: nothing is missing",
  );
  assert.ok(
    report.warnings.some((w) => /^PickleVersionDrift: The pickle was made by scikit-learn 1\.7\.1/.test(w)),
  );
});

test("a pickle needing a package the model pins but this machine lacks: its pin, the build command, and an attempted build", async (t) => {
  const dir = join(tempDir(t), "lgbm-model");
  const pins = ["mlflow==2.22.1", `scikit-learn==${installed[1]}`, "lightgbm==4.6.0"];
  sklearnModel(dir, {
    sklearnVersion: installed[1],
    files: { "conda.yaml": condaYaml(pins), ...pythonEnv(pins) },
  });
  pickle("lightgbm", join(dir, "model.pkl"));
  // Registration reads the pickle's imports: lightgbm is needed, not a package to delete.
  const { findings } = await validateModelDir(dir);
  assert.ok(
    !findings.some((f) => f.code === "PackageNotNeeded"),
    JSON.stringify(findings.map((f) => f.message)),
  );
  const report = await preflight(dir);
  assert.equal(report.diagnoses[0]!.code, "PackageMissing");
  assert.match(
    report.diagnoses[0]!.cause,
    /^The pickle imports lightgbm\.sklearn\.LGBMClassifier; lightgbm is pinned \(lightgbm==4\.6\.0 in requirements\.txt\)/,
  );
  assert.match(report.diagnoses[0]!.fix, /^Build the environment the model pins: `pier env build --model /);

  const file = join(dir, "..", "lgbm.yml");
  writeFileSync(
    file,
    stringify({
      name: "lgbm",
      endpoint_name: "outside",
      model: "./lgbm-model",
      instance_type: "Standard_DS2_v2",
      instance_count: 1,
    }),
  );
  const created = await pier.run(["deployment", "create", "-f", file, "-o", "json"]);
  assert.equal(JSON.parse(created.stdout).error.code, "PackageMissing");
  assert.match(
    created.stderr,
    /building an environment for \d+ pins .* because .*lightgbm/,
    "deployment create tries the build",
  );
  assert.match(created.stderr, /could not build the environment: IndexUnreachable/);
});

/** A scoring-script project as Azure ML's examples lay it out: onlinescoring/score.py, model/, a conda file. */
function scriptProject(
  dir: string,
  conda: Record<string, unknown>,
  modelFiles: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  mkdirSync(join(dir, "onlinescoring"), { recursive: true });
  mkdirSync(join(dir, "model"), { recursive: true });
  writeFileSync(
    join(dir, "onlinescoring/score.py"),
    [
      "import json, os, pickle",
      "def init():",
      "    global model",
      "    with open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'model', 'model.pkl'), 'rb') as f:",
      "        model = pickle.load(f)",
      "def run(raw_data):",
      "    return model.predict(json.loads(raw_data)['data']).tolist()",
    ].join("\n"),
  );
  for (const [file, source] of Object.entries(modelFiles)) cpSync(source, join(dir, "model", file));
  writeFileSync(join(dir, "conda.yml"), stringify(conda));
  const file = join(dir, "deployment.yml");
  writeFileSync(
    file,
    stringify({
      name: "script",
      endpoint_name: "outside",
      model: { path: "./model" },
      code_configuration: { code: "./onlinescoring", scoring_script: "score.py" },
      environment: {
        conda_file: "./conda.yml",
        image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
      },
      instance_type: "Standard_DS2_v2",
      instance_count: 1,
      ...extra,
    }),
  );
  return file;
}

test("a scoring script whose conda file Azure could not build ends Failed as EnvironmentUnresolvable; run locally anyway, every difference is named", async (t) => {
  const conda = {
    name: "model-env",
    channels: ["conda-forge"],
    dependencies: [
      "python=3.8",
      "pip",
      { pip: ["scikit-learn==1.7.0", "numpy==2.3.1", "scipy==1.16.0", "azureml-inference-server-http"] },
    ],
  };
  const gbc = join(FIXTURES, "mlflow/credit-defaults-gbc/model.pkl"); // pickled by scikit-learn 0.24.2
  const file = scriptProject(tempDir(t), conda, { "model.pkl": gbc });
  const failed = JSON.parse((await pier.run(["deployment", "create", "-f", file, "-o", "json"])).stdout);
  assert.equal(failed.provisioning_state, "Failed");
  assert.equal(failed.error.code, "EnvironmentUnresolvable");
  assert.match(
    failed.error.summary,
    /scikit-learn 1\.7\.0 requires Python >=3\.10, but \.\/conda\.yml pins Python 3\.8/,
  );
  assert.match(failed.error.fix, /pin python=3\.11 \(the oldest Python every pinned package here supports\)/);
  const [diagnosis] = failed.diagnoses;
  assert.equal(diagnosis.code, "EnvironmentUnresolvable");
  assert.match(diagnosis.cause, /3 of its pinned packages do not support/);
  assert.deepEqual(diagnosis.actions, [{ kind: "pin", file: "./conda.yml", requirement: "python==3.11" }]);

  const local = await pier.run(["deployment", "update", "-f", file, "--fidelity", "local", "-o", "json"]);
  const view = JSON.parse(local.stdout);
  assert.equal(view.provisioning_state, "Succeeded", local.stderr);
  assert.match(local.stderr, /PythonUnsupported: .* \(run locally anyway: PIER_FIDELITY=local\)/);
  assert.match(local.stderr, /PythonVersionMismatch: \.\/conda\.yml pins Python 3\.8; \S+ is Python 3\.\d+/);
  assert.match(
    local.stderr,
    new RegExp(
      `InstalledVersionsDiffer: .*scikit-learn==1\\.7\\.0 \\(has ${installed[1]!.replaceAll(".", "\\.")}\\)`,
    ),
  );
  assert.match(local.stderr, /numpy==2\.3\.1 \(has /);
  assert.match(
    local.stderr,
    new RegExp(
      `PickleVersionDrift: model\\.pkl was pickled by scikit-learn 0\\.24\\.2 .* has scikit-learn ${installed[1]!.replaceAll(".", "\\.")}`,
    ),
  );
});

test("of the interpreters pier may use it takes the one that needs the least, and names exactly what it still lacks", async (t) => {
  // A python3 on PATH with nothing installed, as a bare pyenv or venv is.
  const bare = join(tempDir(t), "bare");
  execFileSync(PYTHON, ["-m", "venv", "--without-pip", bare]);
  const path = process.env.PATH;
  process.env.PATH = `${join(bare, "bin")}:${path}`;
  t.after(() => {
    process.env.PATH = path;
  });
  const conda = {
    dependencies: ["python=3.11", { pip: [`scikit-learn==${installed[1]}`, "joblib", "emoji==2.8.0"] }],
  };
  const lr = join(tempDir(t), "lr.pkl");
  execFileSync(PYTHON, [
    "-c",
    "import pickle, sys; from sklearn.datasets import load_iris; from sklearn.linear_model import LogisticRegression; X, y = load_iris(return_X_y=True); pickle.dump(LogisticRegression(max_iter=300).fit(X, y), open(sys.argv[1], 'wb'))",
    lr,
  ]);
  const file = scriptProject(tempDir(t), conda, { "model.pkl": lr }, { name: "emoji" });
  const created = await pier.run(["deployment", "create", "-f", file, "-o", "json"]);
  const view = JSON.parse(created.stdout);
  assert.equal(view.error.code, "PackageMissing");
  assert.match(
    view.error.summary,
    new RegExp(`^emoji==2\\.8\\.0 \\(\\./conda\\.yml\\) is not installed in ${PYTHON}`),
  );
  assert.match(
    view.error.summary,
    /could not build an environment with the model's pins: No package index is reachable/,
  );
  assert.ok(
    view.error.details.some((d: string) =>
      new RegExp(
        `chosen: ${PYTHON} \\(needs the least of \\d+ interpreters: 2 of 3 pins met; lacks emoji==2\\.8\\.0\\)`,
      ).test(d),
    ),
    view.error.details.join("\n"),
  );
  assert.ok(!/scikit-learn is not installed/.test(view.error.summary));
});

test("the project's own module left out of the package is named as such; shipped with code_paths, the sklearn flavor loads it", async (t) => {
  const work = tempDir(t);
  const lib = join(work, "lib");
  mkdirSync(lib);
  const featurelib = [
    "from sklearn.base import BaseEstimator, TransformerMixin",
    "class Scale(BaseEstimator, TransformerMixin):",
    "    def fit(self, X, y=None):",
    "        return self",
    "    def transform(self, X):",
    "        return X / 10.0",
  ].join("\n");
  writeFileSync(join(lib, "featurelib.py"), featurelib);
  const pins = [`scikit-learn==${installed[1]}`];
  const without = join(work, "without-code");
  sklearnModel(without, {
    sklearnVersion: installed[1],
    files: { "conda.yaml": condaYaml(pins, "3.11"), ...pythonEnv(pins) },
  });
  pickle("featurelib", join(without, "model.pkl"), lib);
  const missing = await preflight(without);
  assert.equal(missing.diagnoses[0]!.code, "ModuleNotShipped", JSON.stringify(missing.diagnoses));
  assert.match(
    missing.diagnoses[0]!.cause,
    /featurelib\.Scale: featurelib is neither installed .* nor in the model package/,
  );
  assert.match(missing.diagnoses[0]!.fix, /code_paths=\["featurelib\.py"\]/);

  // MLflow's code_paths: the module under code/, and python_function.code naming the folder.
  const shipped = join(work, "with-code");
  sklearnModel(shipped, {
    sklearnVersion: installed[1],
    code: "code",
    files: { "conda.yaml": condaYaml(pins, "3.11"), ...pythonEnv(pins) },
  });
  mkdirSync(join(shipped, "code"));
  writeFileSync(join(shipped, "code/featurelib.py"), featurelib);
  cpSync(join(without, "model.pkl"), join(shipped, "model.pkl"));
  assert.equal((await preflight(shipped)).ok, true);
  const file = join(work, "shipped.yml");
  writeFileSync(
    file,
    stringify({
      name: "shipped",
      endpoint_name: "outside",
      model: "./with-code",
      instance_type: "Standard_DS2_v2",
      instance_count: 1,
    }),
  );
  const created = JSON.parse((await pier.run(["deployment", "create", "-f", file, "-o", "json"])).stdout);
  assert.equal(created.provisioning_state, "Succeeded", JSON.stringify(created.error));
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "outside", "-o", "json"])).stdout,
  ).primaryKey;
  const scored = await post(
    `${pier.url}/endpoints/outside/score`,
    { input_data: [[5.1, 3.5, 1.4, 0.2]] },
    { authorization: `Bearer ${key}`, "azureml-model-deployment": "shipped" },
  );
  assert.equal(scored.status, 200, JSON.stringify(scored.body));

  const inMain = join(work, "main-model");
  sklearnModel(inMain, {
    sklearnVersion: installed[1],
    files: { "conda.yaml": condaYaml(pins, "3.11"), ...pythonEnv(pins) },
  });
  pickle("main", join(inMain, "model.pkl"));
  const main = await preflight(inMain);
  assert.equal(main.diagnoses[0]!.code, "ModuleNotShipped");
  assert.match(main.diagnoses[0]!.cause, /Scale, a class defined in the training script itself \(__main__\)/);
});

test("env files are read completely: includes followed, URL and VCS requirements understood, YAML errors with their line", async (t) => {
  const dir = join(tempDir(t), "env-files");
  sklearnModel(dir, {
    sklearnVersion: installed[1],
    files: {
      "conda.yaml": "name: env\ndependencies:\n  - python=3.11\n  - pip:\n    - -r requirements-extra.txt\n",
      "python_env.yaml": stringify({
        python: "3.11",
        build_dependencies: ["pip"],
        dependencies: ["-r requirements.txt"],
      }),
      "requirements.txt": `scikit-learn==${installed[1]}\ngit+https://github.com/example/featurelib.git@v2#egg=featurelib\n-c constraints.txt\n`,
      "constraints.txt": "numpy<2\n",
    },
  });
  const { findings } = await validateModelDir(dir);
  const missing = findings.find((f) => f.code === "EnvFileMissing");
  assert.deepEqual([missing?.evidence.file, missing?.evidence.line], ["conda.yaml", 5]);
  assert.match(missing!.message, /conda\.yaml line 5 includes requirements-extra\.txt, which does not exist/);
  const direct = findings.find((f) => f.code === "RequirementDirectReference");
  assert.match(
    direct!.message,
    /featurelib comes from version control \(git\+https:\/\/github\.com\/example\/featurelib\.git@v2#egg=featurelib\)/,
  );
  assert.ok(!findings.some((f) => f.code === "RequirementMalformed"), "a VCS requirement is not malformed");

  writeFileSync(join(dir, "conda.yaml"), "name: env\ndependencies:\n\t- python=3.11\n");
  const tabs = (await validateModelDir(dir)).findings.find((f) => f.code === "EnvFileMalformed");
  assert.deepEqual([tabs?.evidence.file, tabs?.evidence.line], ["conda.yaml", 3]);
  assert.match(tabs!.message, /is not valid YAML/);
});

test("a Git LFS pointer in a scoring script's model folder is named at create, not as a KeyError in init()", async (t) => {
  const dir = tempDir(t);
  const pointer = join(dir, "pointer.pkl");
  writeFileSync(pointer, "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 120345\n");
  const file = scriptProject(
    dir,
    { dependencies: ["python=3.11", { pip: [`scikit-learn==${installed[1]}`] }] },
    { "model.pkl": pointer },
    { name: "lfs" },
  );
  const view = JSON.parse((await pier.run(["deployment", "create", "-f", file, "-o", "json"])).stdout);
  // One code for one failure: the doctor's, with the code the step raised kept beside it.
  assert.equal(view.error.code, "ArtifactLfsPointer");
  assert.equal(view.error.data.raisedAs, "ModelValidationFailed");
  assert.equal(view.diagnoses[0].code, "ArtifactLfsPointer");
  assert.match(view.diagnoses[0].cause, /model\.pkl is a Git LFS pointer/);
  assert.deepEqual(view.diagnoses[0].actions, [{ kind: "command", command: "git lfs pull" }]);
});

test("fidelity cloud: every difference from what the cloud would build is an error a CI gate can stop on", async () => {
  const svc = join(FIXTURES, "mlflow/svc-tensor-output");
  assert.equal((await preflight(svc)).ok, true, "by default, differences are warnings");
  const strict = await preflight(svc, "--fidelity", "cloud");
  assert.equal(strict.ok, false);
  const codes = strict.diagnoses.map((d) => d.code);
  assert.ok(codes.includes("PythonVersionMismatch"), JSON.stringify(codes));
  assert.ok(
    codes.includes("PickleVersionDrift") || codes.includes("InstalledVersionsDiffer"),
    JSON.stringify(codes),
  );
  const result = await cli(["doctor", "--model", svc, "--fidelity", "cloud"], svc, { PIER_HOME: pier.home });
  assert.equal(result.code, 1, "a failing check exits 1");
  assert.equal(
    (await cli(["doctor", "--model", svc, "--fidelity", "nearly"], svc, { PIER_HOME: pier.home })).code,
    2,
  );
});

test("a YAML model.version is the version, as Azure registers it: the same files reuse it, other files are refused naming both", async (t) => {
  const dir = tempDir(t);
  const model = join(dir, "model");
  cpSync(join(FIXTURES, "mlflow/svc-tensor-output"), model, { recursive: true });
  const deploy = async (name: string, version: number) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      stringify({
        name,
        endpoint_name: "outside",
        model: { path: "./model", name: "versioned", version },
        instance_type: "Standard_DS2_v2",
        instance_count: 1,
      }),
    );
    return JSON.parse((await pier.run(["deployment", "create", "-f", file, "-o", "json"])).stdout);
  };
  assert.equal((await deploy("vone", 1)).model, "models:/versioned/1");
  assert.equal((await deploy("vsame", 1)).model, "models:/versioned/1", "the same files are version 1 again");
  const five = await deploy("vfive", 5);
  assert.equal(five.model, "models:/versioned/5", "a stated version is registered as that version");
  writeFileSync(join(model, "input_example.json"), JSON.stringify({ columns: ["a"], data: [[1]] }));
  rmSync(join(model, "input_example.json"));
  writeFileSync(join(model, "extra.txt"), "changed\n");
  const changed = await deploy("vchanged", 1);
  assert.equal(changed.error.code, "ModelVersionConflict");
  assert.match(
    changed.error.summary,
    /version 1 is registered already with other files: .*model .*; .*model differs from it/,
  );
});
