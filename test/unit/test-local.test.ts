import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { cli, pierProcess, tempDir, trainedWorkspace } from "../helpers.js";

let work: string;

before(async () => {
  const workspace = await trainedWorkspace("pier-test-local-", 1500);
  work = workspace.dir;
});
after(() => rmSync(work, { recursive: true, force: true }));

/** `pier test-local -o json` on the shared model and data. */
const localTest = (iterations: number) =>
  cli([
    "test-local",
    "--model",
    join(work, "model"),
    "--data",
    join(work, "b.csv"),
    "--iterations",
    String(iterations),
    "-o",
    "json",
  ]);

test("pier test-local scores every row, times single rows and batches, and passes the seed's gates", async () => {
  const result = await localTest(50);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.rows, 1500);
  assert.ok(report.positives > 0 && report.positives < 1500);
  assert.equal(report.singleRow.calls, 50);
  assert.ok(report.loadMs > 0);
  for (const key of ["meanMs", "p50Ms", "p95Ms", "p99Ms"]) assert.ok(report.singleRow[key] > 0, key);
  assert.ok(
    report.singleRow.p50Ms <= report.singleRow.p95Ms && report.singleRow.p95Ms <= report.singleRow.p99Ms,
  );
  assert.equal(report.batch.batchRows, 1000);
  assert.deepEqual(
    report.gates.map((g: { name: string; limitMs: number; passed: boolean }) => [
      g.name,
      g.limitMs,
      g.passed,
    ]),
    [
      ["mean", 100, true],
      ["p95", 200, true],
    ],
  );
  assert.equal(report.passed, true);
});

test("the edge cases of the seed's tests each get a clear error or a defined answer", async () => {
  const result = await localTest(5);
  const cases = Object.fromEntries(
    JSON.parse(result.stdout).edgeCases.map(
      (c: { name: string; outcome: string; detail: string; passed: boolean }) => [c.name, c],
    ),
  );
  assert.match(
    cases["wrong column set"].detail,
    /^MissingInputs: Model is missing inputs \['Age'\]\. Note that there were extra inputs: \['feature_0'\]/,
  );
  assert.match(cases["empty input"].detail, /^EmptyInput/);
  assert.match(cases["NaN in 'Age'"].detail, /^answered \{"label":[01],"probabilities":\[/);
  assert.equal(cases["+1e10 in 'Age'"].outcome, "answer");
  assert.equal(cases["-1e10 in 'Age'"].outcome, "answer");
  assert.match(
    cases["a number in string column 'Transaction Type'"].detail,
    /^IncompatibleInputTypes: Incompatible input types for column Transaction Type/,
  );
  for (const c of Object.values(cases) as { passed: boolean; name: string }[]) assert.ok(c.passed, c.name);
});

test("test-local on a folder that is not a model says so and exits non-zero", async (t) => {
  const empty = tempDir(t);
  const result = await cli(["test-local", "--model", empty, "--data", join(work, "b.csv")]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /✘ MLmodelMissing: .* has no MLmodel file/);
});

test("the real pier executable runs data synth → train → test-local end to end", async (t) => {
  const dir = tempDir(t);
  const synth = await pierProcess(["data", "synth", "--rows", "800", "--out", "b.csv"], { cwd: dir });
  assert.equal(synth.code, 0, synth.stderr);
  const train = await pierProcess(["train", "--data", "b.csv", "--out", "model", "--search", "1"], {
    cwd: dir,
  });
  assert.equal(train.code, 0, train.stderr);
  assert.match(
    train.stdout,
    /Held-out: +accuracy [\d.]+ +precision [\d.]+ +recall [\d.]+ +F1 [\d.]+ +ROC AUC [\d.]+/,
  );
  const local = await pierProcess(
    ["test-local", "--model", "model", "--data", "b.csv", "--iterations", "20"],
    { cwd: dir },
  );
  assert.equal(local.code, 0, local.stdout + local.stderr);
  assert.match(local.stdout, /✔ PASS/);
});

test("unknown commands and flags are usage errors with a fix, never a stack trace", async () => {
  const unknown = await pierProcess(["deploy", "now"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /✘ UnknownCommand: Unknown command 'deploy now'/);
  const flag = await pierProcess(["train", "--colour", "blue"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /✘ UnknownOption: Unknown option '--colour'/);
  assert.match(flag.stderr, /pier train --help/);
  const help = await pierProcess(["train", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--search N/);
});

test("help answers at every level, and near misses get a suggestion that works as printed", async () => {
  const group = await cli(["deployment", "--help"]);
  assert.equal(group.code, 0);
  for (const verb of ["create", "update", "show", "list", "delete", "get-logs"])
    assert.match(group.stdout, new RegExp(`deployment ${verb} `));
  const nested = await cli(["model", "tag", "--help"]);
  assert.deepEqual(
    [nested.code, /model tag set/.test(nested.stdout), /model tag delete/.test(nested.stdout)],
    [0, true, true],
  );
  const bare = await cli(["model"]);
  assert.equal(bare.code, 2, "a noun without a verb is an incomplete command line");
  assert.match(bare.stderr, /model register/);
  const typo = await cli(["deplyment", "create", "-f", "x.yml"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Did you mean `pier deployment create`\?/);
  const swapped = await cli(["model", "shwo", "models:/x/1"]);
  assert.match(swapped.stderr, /Did you mean `pier model show`\?/);
  const option = await cli(["train", "--seeds", "3"]);
  assert.equal(option.code, 2);
  assert.match(
    option.stderr,
    /✘ UnknownOption: Unknown option '--seeds'\nHow to fix:\n {2}Did you mean --seed\?/,
  );
  const value = await cli(["up", "--log-level", "loud"]);
  assert.equal(value.code, 2, "a bad option value is a usage error too");
  assert.match(value.stderr, /✘ BadOptionValue: --log-level must be one of/);
});
