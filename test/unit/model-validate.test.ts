import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { validateModelDir } from "../../src/env/index.js";
import type { Finding } from "../../src/shared/index.js";
import { cli, FIXTURES, tempDir, trainedWorkspace } from "../helpers.js";

let trained: string;
let work: string;

before(async () => {
  const workspace = await trainedWorkspace("pier-validate-");
  work = workspace.dir;
  trained = workspace.model;
});
after(() => rmSync(work, { recursive: true, force: true }));

const codes = (findings: Finding[], severity?: Finding["severity"]) =>
  findings.filter((f) => severity === undefined || f.severity === severity).map((f) => f.code);

/** A writable copy of the trained package, changed by `edit`. */
function variant(t: Parameters<typeof tempDir>[0], edit: (dir: string) => void): string {
  const dir = join(tempDir(t), "model");
  cpSync(trained, dir, { recursive: true });
  edit(dir);
  return dir;
}

test("the package pier train writes validates clean", async () => {
  const { findings } = await validateModelDir(trained);
  assert.deepEqual(codes(findings, "error"), []);
  assert.deepEqual(codes(findings, "warning"), []);
});

test("the seed's broken package: missing model.pkl, Python 3.8 conflicts and version drift, each with a fix", async () => {
  const dir = join(FIXTURES, "mlflow/seed-financial-behavior-broken");
  const result = await cli(["model", "validate", dir, "-o", "json"]);
  assert.equal(result.code, 1, "validation errors exit non-zero");
  const { findings, valid } = JSON.parse(result.stdout) as { findings: Finding[]; valid: boolean };
  assert.equal(valid, false);
  const missing = findings.find((f) => f.code === "ArtifactMissing")!;
  assert.match(missing.message, /model\.pkl/);
  const python = findings.filter((f) => f.code === "PythonUnsupported");
  assert.deepEqual(python.map((f) => f.message.split(" requires")[0]).sort(), [
    "joblib 1.5.1",
    "numpy 1.26.4",
    "pandas 2.3.1",
    "scikit-learn 1.7.0",
  ]);
  assert.match(
    python.find((f) => f.message.startsWith("scikit-learn"))!.message,
    /requires Python >=3\.10, but conda\.yaml pins Python 3\.8/,
  );
  assert.match(python[0]!.fix, /pin python=3\.10/);
  assert.deepEqual(python[0]!.evidence.file, "conda.yaml");
  assert.ok(codes(findings).includes("MlflowVersionMismatch"));
  assert.match(
    findings.find((f) => f.code === "MlflowVersionMismatch")!.message,
    /2\.22\.1.*mlflow==2\.4\.1/,
  );
  assert.ok(codes(findings).includes("PythonVersionMismatch"));
  for (const f of findings) {
    assert.ok(f.fix.length > 10, `${f.code} has a fix`);
    assert.ok(f.evidence.file, `${f.code} names its file`);
  }
  const text = await cli(["model", "validate", dir]);
  assert.match(text.stdout, /✘ ArtifactMissing/);
  assert.match(text.stdout, /fix: /);
});

test("each shared fixture gets the findings its README implies", async () => {
  const at = async (name: string) => (await validateModelDir(join(FIXTURES, "mlflow", name))).findings;

  const credit = await at("credit-defaults-gbc");
  assert.deepEqual(codes(credit, "error"), []);
  assert.ok(credit.some((f) => f.code === "PackageUnpinned" && /^mlflow is not pinned/.test(f.message)));
  assert.ok(credit.some((f) => f.code === "SignatureMissing"));
  assert.ok(credit.some((f) => f.code === "PickleExecutesCode"));

  const svc = await at("svc-tensor-output");
  assert.deepEqual(codes(svc, "error"), [], "its input example matches its signature");
  assert.ok(svc.some((f) => f.code === "PickleExecutesCode"));

  const iris = await at("iris-legacy-sklearn");
  assert.deepEqual(codes(iris, "error"), ["EnvFileMissing"]);
  assert.match(iris[0]!.message, /references conda\.yaml, but the model folder has no conda\.yaml/);

  const lightgbm = await at("lightgbm-iris");
  const drift = lightgbm.find((f) => f.code === "FlavorVersionMismatch")!;
  assert.match(drift.message, /lightgbm 3\.3\.2 .* lightgbm==4\.6\.0/);
  assert.ok(lightgbm.some((f) => f.code === "EnvFilesDisagree" && f.message.startsWith("lightgbm")));
  assert.ok(!lightgbm.some((f) => f.code === "PickleExecutesCode"), "a LightGBM text model is not a pickle");
});

test("structure: MLmodel missing, or one folder down (named), or saved as a folder", async (t) => {
  const empty = tempDir(t);
  assert.deepEqual(codes((await validateModelDir(empty)).findings), ["MLmodelMissing"]);

  const parent = tempDir(t);
  cpSync(trained, join(parent, "mlflow_model"), { recursive: true });
  const nested = (await validateModelDir(parent)).findings;
  assert.deepEqual(codes(nested), ["MLmodelNested"]);
  assert.match(nested[0]!.message, /^Model source must be a directory containing an mlflow MLmodel/);
  assert.match(nested[0]!.fix, /mlflow_model/);

  const deep = tempDir(t);
  cpSync(trained, join(deep, "MLmodel"), { recursive: true });
  assert.deepEqual(codes((await validateModelDir(deep)).findings), ["MLmodelIsFolder"]);
});

test("structure: artifacts that are missing, empty or Git LFS pointers", async (t) => {
  const missing = variant(t, (dir) => rmSync(join(dir, "model.onnx")));
  assert.deepEqual(codes((await validateModelDir(missing)).findings, "error"), ["ArtifactMissing"]);

  const empty = variant(t, (dir) => writeFileSync(join(dir, "model.onnx"), ""));
  assert.deepEqual(codes((await validateModelDir(empty)).findings, "error"), ["ArtifactEmpty"]);

  const lfs = variant(t, (dir) =>
    writeFileSync(
      join(dir, "model.onnx"),
      "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 88000\n",
    ),
  );
  const lfsFindings = (await validateModelDir(lfs)).findings;
  assert.deepEqual(codes(lfsFindings, "error"), ["ArtifactLfsPointer"]);
  assert.match(lfsFindings[0]!.fix, /git lfs pull/);

  const escaping = variant(t, (dir) => {
    const text = readFileSync(join(dir, "MLmodel"), "utf8").replace(
      "data: model.onnx",
      "data: ../../etc/passwd",
    );
    writeFileSync(join(dir, "MLmodel"), text);
  });
  assert.ok(codes((await validateModelDir(escaping)).findings, "error").includes("ArtifactPathEscapes"));
});

test("structure: malformed signature, input example that does not match it, env file referenced but absent", async (t) => {
  const badSignature = variant(t, (dir) => {
    const text = readFileSync(join(dir, "MLmodel"), "utf8").replace(
      /inputs: '\[/,
      'inputs: \'[{"type":"decimal","name":"x"},',
    );
    writeFileSync(join(dir, "MLmodel"), text);
  });
  const sig = (await validateModelDir(badSignature)).findings.find((f) => f.code === "SignatureMalformed")!;
  assert.match(sig.message, /signature\.inputs entry 0 has type "decimal"/);

  const badExample = variant(t, (dir) => {
    const example = JSON.parse(readFileSync(join(dir, "input_example.json"), "utf8"));
    example.data[0][0] = "forty";
    example.columns[7] = "Sex";
    writeFileSync(join(dir, "input_example.json"), JSON.stringify(example));
  });
  const mismatches = (await validateModelDir(badExample)).findings.filter(
    (f) => f.code === "InputExampleMismatch",
  );
  assert.equal(mismatches.length, 2);
  assert.match(mismatches[0]!.message, /lacks signature inputs \["Gender"\]/);
  assert.match(mismatches[1]!.message, /"forty" in column 'Age', which the signature types as double/);

  const noConda = variant(t, (dir) => rmSync(join(dir, "conda.yaml")));
  assert.deepEqual(codes((await validateModelDir(noConda)).findings, "error"), ["EnvFileMissing"]);
});

test("environment: numpy 2 with packages built for numpy 1, unneeded frameworks, unknown packages, bad specifiers", async (t) => {
  const pins = (dir: string, lines: string[]) => {
    writeFileSync(join(dir, "requirements.txt"), `${lines.join("\n")}\n`);
    writeFileSync(
      join(dir, "conda.yaml"),
      `channels:\n- conda-forge\ndependencies:\n- python=3.11.9\n- pip=24.0\n- pip:\n${lines.map((l) => `    - ${l}`).join("\n")}\nname: mlflow-env\n`,
    );
  };
  const abi = variant(t, (dir) =>
    pins(dir, ["mlflow==2.17.2", "onnx==1.17.0", "numpy==2.1.3", "pandas==2.1.4", "scikit-learn==1.3.2"]),
  );
  const abiFindings = (await validateModelDir(abi)).findings.filter((f) => f.code === "NumpyAbiConflict");
  const culprits = new Set(abiFindings.map((f) => f.message.match(/with (\S+ \S+),/)?.[1]));
  assert.deepEqual([...culprits].sort(), ["pandas 2.1.4", "scikit-learn 1.3.2"]);
  assert.match(abiFindings[0]!.fix, /numpy<2/);

  const extra = variant(t, (dir) =>
    pins(dir, [
      "mlflow==2.17.2",
      "onnx==1.17.0",
      "onnxruntime==1.20.1",
      "xgboost==2.0.3",
      "left-pad-py==0.1.0",
    ]),
  );
  const extraFindings = (await validateModelDir(extra)).findings;
  const unneeded = extraFindings.find((f) => f.code === "PackageNotNeeded")!;
  assert.match(unneeded.message, /^xgboost is in /);
  const unknown = extraFindings.find((f) => f.code === "CompatibilityUnknown")!;
  assert.match(unknown.message, /left-pad-py 0\.1\.0/);
  assert.doesNotMatch(unknown.message, /onnxruntime/, "what pier's own packages pin is known");
  assert.equal(unknown.severity, "info");

  const malformed = variant(t, (dir) => pins(dir, ["mlflow==2.17.2", "onnx=>1.17"]));
  assert.ok(codes((await validateModelDir(malformed)).findings, "error").includes("RequirementMalformed"));
});

test("pier model validate on a path that is not a folder is a clear error", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "x"));
  const result = await cli(["model", "validate", join(dir, "nope")]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /✘ ModelSourceNotFound/);
});
