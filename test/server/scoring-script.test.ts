import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { DeploymentView } from "../../src/engine/index.js";
import { pierProcess, post, type RunningPier, servePier, tempDir, writeWheel } from "../helpers.js";
import { project, ROWS, SCORE_PY } from "../script-project.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
test("an Azure scoring script runs as on Azure: init once, run(raw body), JSON-encoded results, the server's errors as 424", async (t) => {
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "scripts", "-o", "json"])).stdout,
  ).primaryKey;
  const dir = tempDir(t);
  const { yml, expected } = project(dir);
  const created = await pier.run(["deployment", "create", "-f", yml("blue"), "--all-traffic", "-o", "json"]);
  const view = JSON.parse(created.stdout) as DeploymentView;
  assert.equal(view.provisioning_state, "Succeeded", created.stdout + created.stderr);
  assert.match(
    created.stderr,
    /✔ code +1 files of .*onlinescoring snapshotted \(scoring script score\.py\), conda file read/,
  );
  assert.match(created.stderr, /runtime scoring script score\.py in python/);
  assert.match(created.stderr, /⚠ config +.*environment\.image is not run \(pier runs no containers\)/);

  const url = `${pier.url}/endpoints/scripts/score`;
  const auth = { authorization: `Bearer ${key}` };
  const scored = await post(url, { data: ROWS }, auth);
  assert.equal(scored.status, 200, JSON.stringify(scored.body));
  assert.deepEqual(scored.body, expected, "what scikit-learn predicts for the same rows");

  // The server's body keeps the details out ({"message"}); the log has them.
  const failed = await post(url, { data: [] }, auth);
  assert.equal(failed.status, 424);
  assert.deepEqual(failed.body, {
    message: "An unexpected error occurred in scoring script. Check the logs for more info.",
  });
  assert.equal(failed.headers.get("ms-azureml-model-error-statuscode"), "500");
  assert.equal(failed.headers.get("x-ms-run-function-failed"), "True");

  const logs = await pier.run(["deployment", "get-logs", "-e", "scripts", "-n", "blue"]);
  assert.match(logs.stdout, /Users's init has completed successfully/);
  assert.match(logs.stdout, /run\(\) failed: ValueError/);

  // A returned string is JSON-encoded once more, as Azure's server does.
  const stringy = tempDir(t);
  const second = project(
    stringy,
    `${SCORE_PY}\ndef run(raw_data):\n    return json.dumps({"rows": len(json.loads(raw_data)["data"])})\n`,
  );
  const green = await pier.run(["deployment", "create", "-f", second.yml("green"), "-o", "json"]);
  assert.equal(JSON.parse(green.stdout).provisioning_state, "Succeeded", green.stderr);
  const text = await fetch(url, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", "azureml-model-deployment": "green" },
    body: JSON.stringify({ data: ROWS }),
  });
  const decoded = JSON.parse(await text.text());
  assert.equal(typeof decoded, "string", "the body is a JSON string holding the script's JSON");
  assert.deepEqual(JSON.parse(decoded), { rows: 3 });

  // An answer JSON cannot hold is the server's own 500 (a 424 here), not a request left to time out.
  const odd = project(tempDir(t), `${SCORE_PY}\ndef run(raw_data):\n    return {"model": object()}\n`);
  const oddView = await createView(pier, odd.yml("odd"));
  assert.equal(oddView.provisioning_state, "Succeeded");
  const unjson = await post(url, { data: ROWS }, { ...auth, "azureml-model-deployment": "odd" });
  assert.equal(unjson.status, 424);
  assert.deepEqual(unjson.body, {
    message: "An unexpected internal error occurred. Check the logs for more info.",
  });
  const oddLogs = await pier.run(["deployment", "get-logs", "-e", "scripts", "-n", "odd"]);
  assert.match(
    oddLogs.stdout,
    /run\(\) returned a builtins\.object that JSON cannot encode/,
    "the value inside, not the dict",
  );
  // The doctor names it from what the host reported, not from the log line.
  const oddDoctor = await pier.run(["doctor", "scripts", "odd", "-o", "json"]);
  const named = JSON.parse(oddDoctor.stdout)[0].diagnoses.find(
    (d: { code: string }) => d.code === "UnserializableOutput",
  );
  assert.ok(named, oddDoctor.stdout);
  assert.match(named.cause, /answered a builtins\.object/);
  assert.match(named.fix, /return lists, dicts, strings and numbers/);
});

test("scripts that fail to import, lack run(), or raise in init() each get their own outcome, with the user's frame", async (t) => {
  const pier = await servePier(t);
  assert.equal((await pier.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  const cases: [string, string, string, RegExp][] = [
    [
      "imports",
      "import nonexistent_scoring_helper\ndef init():\n    pass\ndef run(raw):\n    return raw\n",
      "UserScriptImportError",
      /No module named 'nonexistent_scoring_helper'/,
    ],
    ["norun", "def init():\n    pass\n", "UserScriptFunctionNotFound", /score\.py does not define run\(\)/],
    [
      "initfails",
      "import os\ndef init():\n    raise FileNotFoundError('model.bin is not in ' + os.environ['AZUREML_MODEL_DIR'])\ndef run(raw):\n    return raw\n",
      "UserScriptInitFailed",
      /init\(\) raised FileNotFoundError: model\.bin is not in .*azureml-models\/scripts-initfails\/1/,
    ],
  ];
  for (const [name, script, code, message] of cases) {
    const dir = tempDir(t);
    const { yml } = project(dir, script);
    const result = await pier.run(["deployment", "create", "-f", yml(name), "-o", "json"]);
    assert.equal(result.code, 1, name);
    const view = JSON.parse(result.stdout) as DeploymentView;
    assert.equal(view.provisioning_state, "Failed", name);
    assert.equal(view.error?.code, code, name);
    assert.match(view.error!.summary, message, name);
    const logs = await pier.run(["deployment", "get-logs", "-e", "scripts", "-n", name]);
    assert.match(logs.stdout, /Traceback \(most recent call last\)/, name);
    if (name !== "norun")
      assert.match(logs.stdout, /score\.py", line \d+/, `${name}: the frame in the user's script`);
  }
});

/** `pier deployment create -f FILE -o json` on a running pier, as the deployment it reports. */
async function createView(pier: RunningPier, file: string): Promise<DeploymentView> {
  return JSON.parse(
    (await pier.run(["deployment", "create", "-f", file, "-o", "json"])).stdout,
  ) as DeploymentView;
}

const PROBE_SCRIPT = `import pier_probe_pkg
def init():
    pass
def run(raw):
    return {"value": pier_probe_pkg.VALUE}
`;

/** A scoring-script project whose conda file pins a package the interpreter lacks. */
function probeProject(dir: string, pin: string): (name: string) => string {
  const { yml } = project(dir, PROBE_SCRIPT);
  writeFileSync(
    join(dir, "conda.yml"),
    `name: probe-env\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - scikit-learn\n    - pier-probe-pkg${pin}\n    - azureml-inference-server-http\n`,
  );
  return yml;
}

test("environments: a missing package is built once ahead of the instances and reused; a pin pip cannot meet and an unreachable index each fail fast with their own code", async (t) => {
  const wheels = tempDir(t, "pier-wheels-");
  writeWheel(wheels, "pier-probe-pkg", "1.0", "VALUE = 42\n");
  const pier = await servePier(t, { env: { PIER_PIP_FIND_LINKS: wheels } });
  assert.equal((await pier.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "scripts", "-o", "json"])).stdout,
  ).primaryKey;

  const first = await pier.run([
    "deployment",
    "create",
    "-f",
    probeProject(tempDir(t), "==1.0")("built"),
    "-o",
    "json",
  ]);
  assert.equal(JSON.parse(first.stdout).provisioning_state, "Succeeded", first.stderr);
  assert.match(
    first.stderr,
    /building an environment for 2 pins on .*because .*PackageMissing.*: scikit-learn, pier-probe-pkg==1\.0/,
  );
  assert.match(first.stderr, /Successfully installed pier-probe-pkg-1\.0/);
  const hash = /built environment ([0-9a-f]{16}) in/.exec(first.stderr)?.[1];
  assert.ok(hash, first.stderr);
  const scored = await post(
    `${pier.url}/endpoints/scripts/score`,
    { any: "body" },
    { authorization: `Bearer ${key}`, "azureml-model-deployment": "built" },
  );
  assert.deepEqual(scored.body, { value: 42 }, "the instance runs in the built environment");

  const secondDir = tempDir(t);
  const second = await pier.run([
    "deployment",
    "create",
    "-f",
    probeProject(secondDir, "==1.0")("reused"),
    "-o",
    "json",
  ]);
  assert.equal(JSON.parse(second.stdout).provisioning_state, "Succeeded", second.stderr);
  assert.doesNotMatch(second.stderr, /building/);
  assert.match(second.stderr, new RegExp(`reusing environment ${hash} \\(built .*\\) for these pins`));
  const envs = JSON.parse((await pier.run(["env", "list", "-o", "json"])).stdout);
  assert.deepEqual(
    envs.map((e: { hash: string; state: string }) => [e.hash, e.state]),
    [[hash, "ready"]],
  );
  const cliBuild = await pier.run([
    "env",
    "build",
    "--conda-file",
    join(secondDir, "conda.yml"),
    "--python",
    PYTHON,
    "-o",
    "json",
  ]);
  assert.equal(
    JSON.parse(cliBuild.stdout).hash,
    hash,
    "`pier env build` names the same environment, already built",
  );
  assert.doesNotMatch(cliBuild.stderr, /building/);
  const shown = await pier.run(["env", "show", hash!.slice(0, 6)]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /pins: pier-probe-pkg==1\.0, scikit-learn/);
  assert.match(shown.stdout, /Successfully installed pier-probe-pkg-1\.0/);

  const missingView = await createView(pier, probeProject(tempDir(t), "==2.0")("nover"));
  assert.equal(missingView.provisioning_state, "Failed");
  assert.equal(missingView.error?.code, "EnvironmentUnresolvable");
  assert.match(missingView.error!.summary, /pier-probe-pkg==2\.0 \(from versions: 1\.0\)/);
  assert.ok(missingView.error!.details.some((d) => /^build log: .*build\.log$/.test(d)));

  // Without wheels, on a machine that reaches no index: the missing package, with the build's reason.
  await pier.stop();
  const offline = await servePier(t);
  assert.equal((await offline.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  const started = Date.now();
  const failedView = await createView(offline, probeProject(tempDir(t), "==1.0")("offline"));
  assert.equal(failedView.provisioning_state, "Failed");
  assert.equal(failedView.error?.code, "PackageMissing");
  assert.match(
    failedView.error!.summary,
    /^pier-probe-pkg==1\.0 \(\S+\) is not installed in .*could not build an environment with the model's pins: No package index is reachable/,
  );
  assert.match(failedView.error!.fix!, /PIER_PIP_FIND_LINKS/);
  assert.ok(Date.now() - started < 20_000, "fails in seconds, not a hang");
});

test("two `pier env build` processes for the same pins build once: the second waits for the first and reuses it", async (t) => {
  const wheels = tempDir(t, "pier-wheels-");
  writeWheel(wheels, "pier-probe-pkg", "1.0", "VALUE = 1\n");
  const home = tempDir(t, "pier-home-");
  const conda = join(tempDir(t), "conda.yml");
  writeFileSync(conda, "dependencies:\n  - pip:\n    - pier-probe-pkg==1.0\n");
  const env = { PIER_HOME: home, PIER_PIP_FIND_LINKS: wheels };
  const build = () =>
    pierProcess(["env", "build", "--conda-file", conda, "--python", PYTHON, "-o", "json"], { env });
  const results = await Promise.all([build(), build()]);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const [a, b] = results.map((r) => JSON.parse(r.stdout) as { hash: string; python: string });
  assert.equal(a!.hash, b!.hash);
  const log = readFileSync(join(home, "envs", a!.hash, "build.log"), "utf8");
  assert.equal(log.match(/Successfully installed pier-probe-pkg-1\.0/g)?.length, 1, log);
  assert.equal(
    execFileSync(a!.python, ["-c", "import pier_probe_pkg; print(pier_probe_pkg.VALUE)"], {
      encoding: "utf8",
    }).trim(),
    "1",
  );
  const bad = await pierProcess(["env", "build", "--model", "models:/nope/1"], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /nope/);
});
