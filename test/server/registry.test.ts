import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { isCuratedEnvironment, parseEnvironmentRef, parseModelUri } from "../../src/registry/index.js";
import { cli, FIXTURES, pierProcess, tempDir, trainedWorkspace } from "../helpers.js";

let work: string;
let trained: string;

before(async () => {
  const workspace = await trainedWorkspace("pier-registry-");
  work = workspace.dir;
  trained = workspace.model;
});
after(() => rmSync(work, { recursive: true, force: true }));

/** A pier home of its own for one test; the in-process CLI reads PIER_HOME. */
function home(t: TestContext): string {
  const dir = tempDir(t, "pier-home-");
  const previous = process.env.PIER_HOME;
  process.env.PIER_HOME = dir;
  t.after(() => {
    if (previous === undefined) delete process.env.PIER_HOME;
    else process.env.PIER_HOME = previous;
  });
  return dir;
}

async function json(args: string[]) {
  const result = await cli([...args, "-o", "json"]);
  return { ...result, body: JSON.parse(result.stdout) };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

test("register → versions 1, 2; show records source, hashes, flavors, signature, example, env files, findings", async (t) => {
  home(t);
  const first = await json([
    "model",
    "register",
    trained,
    "--name",
    "financial-behavior-model",
    "--tag",
    "team=risk",
    "--version-tag",
    "stage=dev",
    "--description",
    "first",
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.body.version, 1);
  // The same files again: the version they are, said so, not a copy.
  const again = await cli(["model", "register", trained, "--name", "financial-behavior-model"]);
  assert.match(
    again.stdout,
    /models:\/financial-behavior-model\/1 holds exactly these files already: nothing new registered/,
  );
  const second = await json([
    "model",
    "register",
    trained,
    "--name",
    "financial-behavior-model",
    "--version",
    "2",
  ]);
  assert.deepEqual([second.body.version, second.body.reused], [2, false], "a stated version is that version");

  const shown = (await json(["model", "show", "models:/financial-behavior-model/1"])).body;
  const v = shown.version;
  assert.equal(v.source, trained);
  assert.equal(v.description, "first");
  assert.ok(Date.parse(v.createdAt) > 0);
  assert.deepEqual(Object.keys(v.flavors).sort(), ["onnx", "python_function"]);
  assert.match(v.signature.inputs, /"Transaction Amount"/);
  assert.deepEqual(v.inputExample.columns.length, 8);
  assert.deepEqual(Object.keys(v.envFiles).sort(), ["conda.yaml", "python_env.yaml", "requirements.txt"]);
  assert.ok(Array.isArray(v.findings));
  assert.deepEqual(v.tags, { stage: "dev" });
  assert.deepEqual(shown.model.tags, { team: "risk" });
  const onnx = v.artifacts.find((a: { path: string }) => a.path === "model.onnx");
  assert.equal(onnx.sha256, sha256(join(trained, "model.onnx")));
  assert.equal(
    v.sizeBytes,
    v.artifacts.reduce((s: number, a: { size: number }) => s + a.size, 0),
  );

  const list = (await json(["model", "list"])).body;
  assert.deepEqual(
    list.map((m: { name: string; versions: number[] }) => [m.name, m.versions]),
    [["financial-behavior-model", [1, 2]]],
  );
  const text = await cli(["model", "show", "models:/financial-behavior-model/latest"]);
  assert.match(text.stdout, /models:\/financial-behavior-model\/2/);
  assert.match(text.stdout, /model\.onnx/);
});

test("the registry keeps its own copy: the source folder can change or vanish, downloads verify every hash", async (t) => {
  const pierHome = home(t);
  const source = join(tempDir(t), "model");
  cpSync(trained, source, { recursive: true });
  assert.equal((await cli(["model", "register", source, "--name", "m"])).code, 0);
  writeFileSync(join(source, "model.onnx"), "changed");
  rmSync(source, { recursive: true });

  const out = join(tempDir(t), "copy");
  const download = await cli(["model", "download", "models:/m/1", "--out", out]);
  assert.equal(download.code, 0, download.stderr);
  for (const file of readdirSync(trained))
    assert.equal(sha256(join(out, file)), sha256(join(trained, file)), file);

  // A tampered blob is caught on the way out.
  const blob = join(
    pierHome,
    "artifacts/sha256",
    sha256(join(trained, "model.onnx")).slice(0, 2),
    sha256(join(trained, "model.onnx")),
  );
  rmSync(blob);
  writeFileSync(blob, "tampered");
  const bad = await cli(["model", "download", "models:/m/1", "--out", join(tempDir(t), "bad")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /✘ ArtifactCorrupted: model\.onnx does not match its recorded sha256/);

  const again = await cli(["model", "download", "models:/m/1", "--out", out]);
  assert.match(again.stderr, /✘ OutputExists/);
});

test("a damaged store repairs itself: verify names the versions a bad blob breaks; registering from the source replaces the copy", async (t) => {
  const pierHome = home(t);
  const source = join(tempDir(t), "model");
  cpSync(trained, source, { recursive: true });
  assert.equal((await cli(["model", "register", source, "--name", "m"])).code, 0);
  assert.equal((await cli(["model", "register", source, "--name", "copy"])).code, 0);
  const clean = await cli(["model", "verify"]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stdout, /✔ \d+ file\(s\), [\d.]+ [KM]iB: every one matches its sha256/);

  const blobOf = (file: string) => {
    const hash = sha256(join(trained, file));
    return join(pierHome, "artifacts/sha256", hash.slice(0, 2), hash);
  };
  // Bit rot in the model (the blob is read-only, as the store leaves it) and a lost MLmodel.
  rmSync(blobOf("model.onnx"));
  writeFileSync(
    blobOf("model.onnx"),
    Buffer.concat([readFileSync(join(trained, "model.onnx")).subarray(1), Buffer.from([0])]),
  );
  rmSync(blobOf("MLmodel"));
  const damaged = await json(["model", "verify"]);
  assert.equal(damaged.code, 1);
  assert.deepEqual(damaged.body.brokenVersions.sort(), ["models:/copy/1", "models:/m/1"]);
  assert.deepEqual(
    damaged.body.damaged
      .map((d: { state: string; uses: { path: string }[] }) => `${d.state} ${d.uses[0]!.path}`)
      .sort(),
    ["corrupt model.onnx", "missing MLmodel"],
  );
  const text = await cli(["model", "verify", "m"]);
  assert.match(text.stdout, new RegExp(`breaks models:/m/1 \\(model\\.onnx\\), registered from ${source}`));
  assert.match(text.stdout, new RegExp(`pier model register ${source} --name m`));
  const missing = await cli(["model", "download", "models:/copy/1", "--out", join(tempDir(t), "x")]);
  assert.match(
    missing.stderr,
    /✘ ArtifactCorrupted: (MLmodel is missing from the artifact store|model\.onnx does not match)/,
  );
  assert.match(missing.stderr, /pier model verify/);

  // Registering from the source (a new version) replaces both copies; the older versions are whole again.
  const again = await cli(["model", "register", source, "--name", "m"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    again.stdout,
    /⚠ The store's copy of (MLmodel, model\.onnx|model\.onnx, MLmodel) was damaged or missing; replaced/,
  );
  assert.equal((await cli(["model", "verify"])).code, 0);
  const out = join(tempDir(t), "copy");
  assert.equal((await cli(["model", "download", "models:/copy/1", "--out", out])).code, 0);
  assert.equal(sha256(join(out, "model.onnx")), sha256(join(trained, "model.onnx")));
  assert.match((await cli(["model", "verify", "nope"])).stderr, /✘ ModelNotFound/);
});

test("URIs resolve as MLflow resolves them", () => {
  assert.deepEqual(parseModelUri("models:/fin/3"), {
    kind: "registry",
    name: "fin",
    uri: "models:/fin/3",
    selector: { type: "version", version: 3 },
  });
  assert.deepEqual(
    parseModelUri("models:/fin/LATEST").kind === "registry" && parseModelUri("models:/fin/LATEST"),
    {
      kind: "registry",
      name: "fin",
      uri: "models:/fin/LATEST",
      selector: { type: "latest" },
    },
  );
  assert.deepEqual((parseModelUri("models:/fin@champion") as { selector: unknown }).selector, {
    type: "alias",
    alias: "champion",
  });
  assert.deepEqual((parseModelUri("models:/fin@latest") as { selector: unknown }).selector, {
    type: "latest",
  });
  assert.deepEqual((parseModelUri("azureml:fin:7") as { selector: unknown }).selector, {
    type: "version",
    version: 7,
  });
  assert.deepEqual(parseModelUri("./some/dir"), { kind: "path", path: "./some/dir" });
  assert.throws(() => parseModelUri("models:/fin"), /Not a proper models:\/ URI: models:\/fin/);
  assert.throws(() => parseModelUri("models:/fin/3/extra"), /Not a proper models:\/ URI/);
  assert.throws(() => parseModelUri("models:/fin/Production"), /stages are deprecated/);
  assert.throws(() => parseModelUri("runs:/abc/model"), /cannot load models from/);
});

test("unknown model, version and alias, and reserved aliases, are errors with MLflow's wording and a fix", async (t) => {
  home(t);
  await cli(["model", "register", trained, "--name", "fin"]);
  const cases: [string[], RegExp][] = [
    [["model", "show", "models:/nope/1"], /✘ ModelNotFound: Registered Model with name=nope not found/],
    [
      ["model", "show", "models:/fin/9"],
      /✘ ModelVersionNotFound: Model Version \(name=fin, version=9\) not found/,
    ],
    [
      ["model", "show", "models:/fin@champion"],
      /✘ AliasNotFound: Registered model alias champion not found\./,
    ],
    [
      ["model", "alias", "set", "fin", "latest", "1"],
      /✘ ReservedAlias: 'latest' alias name \(case insensitive\) is reserved\./,
    ],
    [["model", "alias", "set", "fin", "v1", "1"], /✘ ReservedAlias: Version alias name 'v1' is reserved\./],
    [["model", "alias", "set", "fin", "bad alias!", "1"], /✘ InvalidAlias/],
    [["model", "show", "models:/fin"], /✘ InvalidModelUri: Not a proper models:\/ URI/],
    [["model", "register", trained, "--name", "bad name"], /✘ InvalidModelName/],
  ];
  for (const [args, pattern] of cases) {
    const result = await cli(args);
    assert.equal(result.code, 1, args.join(" "));
    assert.match(result.stderr, pattern);
    assert.match(result.stderr, /How to fix:/);
  }
  const noArgs = await cli(["model", "show"]);
  assert.equal(noArgs.code, 2);
});

test("aliases and tags: set, move, resolve, delete; deleting a version takes its aliases and keeps shared files", async (t) => {
  const pierHome = home(t);
  await cli(["model", "register", trained, "--name", "fin"]);
  await cli(["model", "register", trained, "--name", "fin", "--version", "2"]);
  assert.equal((await cli(["model", "alias", "set", "fin", "champion", "1"])).code, 0);
  assert.equal((await json(["model", "show", "models:/fin@champion"])).body.version.version, 1);
  await cli(["model", "alias", "set", "fin", "champion", "2"]);
  assert.equal((await json(["model", "show", "models:/fin@champion"])).body.version.version, 2);
  assert.deepEqual((await json(["model", "show", "models:/fin/2"])).body.version.aliases, ["champion"]);

  assert.equal((await cli(["model", "tag", "set", "fin", "owner=risk"])).code, 0);
  assert.equal((await cli(["model", "tag", "set", "fin", "approved=yes", "--version", "2"])).code, 0);
  let shown = (await json(["model", "show", "models:/fin/2"])).body;
  assert.deepEqual(shown.model.tags, { owner: "risk" });
  assert.deepEqual(shown.version.tags, { approved: "yes" });
  assert.equal((await cli(["model", "tag", "delete", "fin", "approved", "--version", "2"])).code, 0);
  shown = (await json(["model", "show", "models:/fin/2"])).body;
  assert.deepEqual(shown.version.tags, {});
  assert.match((await cli(["model", "tag", "delete", "fin", "nope"])).stderr, /✘ TagNotFound/);

  const deleted = await json(["model", "delete", "fin", "--version", "2"]);
  assert.equal(deleted.body.blobsRemoved, 0, "version 1 still uses the same files");
  assert.match((await cli(["model", "show", "models:/fin@champion"])).stderr, /AliasNotFound/);
  assert.equal((await cli(["model", "alias", "set", "fin", "champion", "1"])).code, 0);
  assert.equal((await cli(["model", "alias", "delete", "fin", "champion"])).code, 0);

  await cli(["model", "delete", "fin", "--version", "1"]);
  assert.match(
    (await cli(["model", "show", "models:/fin/latest"])).stderr,
    /✘ ModelHasNoVersions: No versions of model with name 'fin' found/,
  );
  assert.equal((await cli(["model", "delete", "fin"])).code, 0);
  assert.deepEqual((await json(["model", "list"])).body, []);
  const blobs = readdirSync(join(pierHome, "artifacts/sha256")).flatMap((d) =>
    readdirSync(join(pierHome, "artifacts/sha256", d)),
  );
  assert.deepEqual(blobs, [], "no orphaned files remain");
});

test("registration refuses a package with errors unless --force, and records the findings", async (t) => {
  home(t);
  const seed = join(FIXTURES, "mlflow/seed-financial-behavior-broken");
  const refused = await cli(["model", "register", seed, "--name", "seed"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /✘ ModelValidationFailed: .* has 5 error\(s\)/);
  assert.match(refused.stderr, /ArtifactMissing/);
  assert.deepEqual((await json(["model", "list"])).body, []);

  const forced = await json(["model", "register", seed, "--name", "seed", "--force"]);
  assert.equal(forced.code, 0);
  assert.equal(forced.body.forced, true);
  assert.ok(forced.body.findings.some((f: { code: string }) => f.code === "PythonUnsupported"));

  const credit = await cli([
    "model",
    "register",
    join(FIXTURES, "mlflow/credit-defaults-gbc"),
    "--name",
    "credit",
  ]);
  assert.equal(credit.code, 0, "warnings do not block");
  assert.match(credit.stdout, /ℹ PickleExecutesCode: Loading model\.pkl unpickles it/);
});

test("processes registering the same name at once: other files get distinct versions, the same files one", async (t) => {
  const pierHome = tempDir(t, "pier-home-");
  const env = { PIER_HOME: pierHome };
  const folders = Array.from({ length: 4 }, (_, i) => {
    const dir = join(tempDir(t), `m${i}`);
    cpSync(trained, dir, { recursive: true });
    writeFileSync(join(dir, "note.txt"), `copy ${i}\n`);
    return dir;
  });
  const register = (dir: string) =>
    pierProcess(["model", "register", dir, "--name", "shared", "-o", "json"], { env });
  const runs = await Promise.all([...folders.map(register), register(folders[0]!), register(folders[0]!)]);
  for (const run of runs) assert.equal(run.code, 0, run.stdout + run.stderr);
  const versions = runs.map((run) => JSON.parse(run.stdout).version as number);
  assert.deepEqual([...new Set(versions.slice(0, 4))].sort(), [1, 2, 3, 4], "four folders, four versions");
  assert.deepEqual(new Set([versions[0], versions[4], versions[5]]).size, 1, "the same files, one version");
});

test("a registration killed mid-way (kill -9) leaves no half version behind", async (t) => {
  const pierHome = tempDir(t, "pier-home-");
  for (const point of ["register:after-blobs", "register:before-commit"]) {
    const killed = await pierProcess(["model", "register", trained, "--name", "fin"], {
      env: { PIER_HOME: pierHome, PIER_FAILPOINT: point },
    });
    assert.notEqual(killed.code, 0, `${point}: the process died`);
    const list = await pierProcess(["model", "list", "-o", "json"], { env: { PIER_HOME: pierHome } });
    const models = JSON.parse(list.stdout) as { name: string; versions: number[] }[];
    assert.deepEqual(
      models.flatMap((m) => m.versions),
      [],
      `${point}: no version was recorded`,
    );
  }
  const ok = await pierProcess(["model", "register", trained, "--name", "fin", "-o", "json"], {
    env: { PIER_HOME: pierHome },
  });
  assert.equal(JSON.parse(ok.stdout).version, 1, "the next registration is version 1");
  const download = await pierProcess(["model", "download", "models:/fin/1", "--out", join(tempDir(t), "d")], {
    env: { PIER_HOME: pierHome },
  });
  assert.equal(download.code, 0, download.stderr);
});

test("environment assets as az registers them: stated version, reuse of the same definition, a clash named, latest, curated refs", async (t) => {
  const dir = home(t);
  writeFileSync(
    join(dir, "conda.yml"),
    "name: env\ndependencies:\n  - python=3.11\n  - pip:\n    - -r requirements.txt\n",
  );
  writeFileSync(join(dir, "requirements.txt"), "scikit-learn==1.2.1\n");
  writeFileSync(
    join(dir, "env.yml"),
    "name: sk-env\nversion: 3\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04\nconda_file: conda.yml\n",
  );
  const created = await json(["az", "ml", "environment", "create", "-f", join(dir, "env.yml")]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.body.version, "3");
  assert.deepEqual(created.body.conda_file.dependencies[0], "python=3.11");
  // The same definition again is the same version; a changed one under it is refused, naming both.
  assert.equal(
    (await cli(["az", "ml", "environment", "create", "-f", join(dir, "env.yml"), "-o", "none"])).code,
    0,
  );
  writeFileSync(join(dir, "requirements.txt"), "scikit-learn==1.3.0\n");
  const clash = await cli(["az", "ml", "environment", "create", "-f", join(dir, "env.yml")]);
  assert.equal(clash.code, 1);
  assert.match(
    clash.stderr,
    /EnvironmentVersionConflict: environment sk-env:3 is already registered from .*env\.yml/,
  );
  // Without a version: the next number after the highest.
  const next = await json([
    "az",
    "ml",
    "environment",
    "create",
    "-n",
    "sk-env",
    "--image",
    "python:3.11-slim",
    "--conda-file",
    join(dir, "conda.yml"),
  ]);
  assert.equal(next.body.version, "4");
  const latest = await json(["az", "ml", "environment", "show", "-n", "sk-env", "--label", "latest"]);
  assert.equal(latest.body.image, "python:3.11-slim");
  const missing = await cli(["az", "ml", "environment", "show", "-n", "sk-env", "-v", "9"]);
  assert.match(
    missing.stderr,
    /EnvironmentNotFound: environment 'azureml:sk-env:9' is not registered \(sk-env has version 3, 4\)/,
  );
  assert.deepEqual(parseEnvironmentRef("azureml:sk-env:3"), { name: "sk-env", version: "3" });
  assert.deepEqual(parseEnvironmentRef("azureml:sk-env@latest"), { name: "sk-env", version: "latest" });
  assert.equal(
    parseEnvironmentRef("azureml://registries/azureml/environments/sklearn-1.5/labels/latest"),
    undefined,
  );
  assert.ok(isCuratedEnvironment("azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:1"));
});
