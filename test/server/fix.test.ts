/**
 * `pier doctor --fix` in-process: the edits it makes to files as people write them (comments and key
 * order kept, a pin where the package already is, every env file kept in agreement), the diffs it
 * shows, and its rounds: a change that helps is kept, one that does not is undone, --dry-run writes
 * nothing. The fault corpus (faults.test.ts) runs it end to end on real deployments.
 */
import assert from "node:assert/strict";
import { linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Diagnosis } from "../../src/doctor/index.js";
import { planFix, runFix } from "../../src/fix/index.js";
import { cli, tempDir } from "../helpers.js";

const DEPLOYMENT = `# blue: the candidate
name: blue
endpoint_name: fin   # the endpoint
model: ./model
instance_type: Standard_DS2_v2  # small on purpose
instance_count: 1
readiness_probe:
  initial_delay: 1   # seconds
  period: 1
`;

function project(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  mkdirSync(join(dir, "model"));
  writeFileSync(join(dir, "blue.yml"), DEPLOYMENT);
  writeFileSync(
    join(dir, "model", "conda.yaml"),
    "channels:\n- conda-forge\ndependencies:\n- python=3.8  # too old for pandas 2\n- pip<=23.0\n- pip:\n  - mlflow==2.4.1\n  - pandas==2.3.1\n  - scikit-learn==1.7.0\nname: mlflow-env\n",
  );
  writeFileSync(
    join(dir, "model", "requirements.txt"),
    "mlflow==2.4.1\npandas==2.3.1  # data frames\nscikit-learn==1.7.0\n",
  );
  writeFileSync(
    join(dir, "model", "python_env.yaml"),
    "python: 3.8\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n",
  );
  return dir;
}

const file = (dir: string, path: string) => readFileSync(join(dir, path), "utf8");
const after = (plan: ReturnType<typeof planFix>, path: string) =>
  plan.changes.find((c) => c.path.endsWith(path))?.after;

test("YAML fixes change the key in place and keep every comment and the order of the keys", (t) => {
  const dir = project(t);
  const plan = planFix(
    [
      { kind: "yaml", key: "readiness_probe.initial_delay", value: 29 },
      { kind: "yaml", key: "resources.limits.memory", value: "512Mi" },
      { kind: "yaml", key: "model.path", value: "./model/inner" },
    ],
    { deploymentFile: join(dir, "blue.yml") },
  );
  const text = after(plan, "blue.yml")!;
  for (const comment of ["# blue: the candidate", "# the endpoint", "# small on purpose", "# seconds"])
    assert.ok(text.includes(comment), `keeps ${comment}`);
  assert.match(text, /initial_delay: 29 +# seconds/);
  assert.match(text, /resources:\n {2}limits:\n {4}memory: 512Mi/);
  assert.match(text, /^model: \.\/model\/inner$/m, "a model given as a path stays a path");
  const keys = text
    .split("\n")
    .filter((l) => /^[a-z_]+:/.test(l))
    .map((l) => l.split(":")[0]);
  assert.deepEqual(keys.slice(0, 6), [
    "name",
    "endpoint_name",
    "model",
    "instance_type",
    "instance_count",
    "readiness_probe",
  ]);
  assert.equal(file(dir, "blue.yml"), DEPLOYMENT, "planning writes nothing");
});

test("a pin goes where the package already is, in every env file that lists it, and python into the files that pin it", (t) => {
  const dir = project(t);
  const deploymentFile = join(dir, "blue.yml");
  const pandas = planFix([{ kind: "pin", file: "conda.yaml", requirement: "pandas==2.0.3" }], {
    deploymentFile,
  });
  assert.equal(pandas.environment, true);
  assert.match(after(pandas, "conda.yaml")!, /- pandas==2\.0\.3\n/);
  assert.match(after(pandas, "conda.yaml")!, /- python=3\.8 +# too old for pandas 2/, "comments stay");
  assert.equal(
    after(pandas, "requirements.txt"),
    "mlflow==2.4.1\npandas==2.0.3  # data frames\nscikit-learn==1.7.0\n",
  );
  assert.equal(after(pandas, "python_env.yaml"), undefined, "python_env.yaml lists no packages");

  const python = planFix([{ kind: "pin", file: "conda.yaml", requirement: "python==3.11" }], {
    deploymentFile,
  });
  assert.match(after(python, "conda.yaml")!, /^- python=3\.11/m);
  assert.match(after(python, "python_env.yaml")!, /^python: "?3\.11"?$/m);
  assert.equal(after(python, "requirements.txt"), undefined);

  const drop = planFix([{ kind: "unpin", file: "requirements.txt", package: "scikit-learn" }], {
    deploymentFile,
  });
  assert.doesNotMatch(after(drop, "requirements.txt")!, /scikit-learn/);
  assert.doesNotMatch(after(drop, "conda.yaml")!, /scikit-learn/);

  const added = planFix([{ kind: "pin", file: "requirements.txt", requirement: "numpy==1.26.4" }], {
    deploymentFile,
  });
  assert.match(
    after(added, "requirements.txt")!,
    /numpy==1\.26\.4\n$/,
    "a package no file lists is added to the named file",
  );

  const elsewhere = planFix([{ kind: "pin", file: "../outside/conda.yaml", requirement: "numpy==1.26.4" }], {
    deploymentFile,
  });
  assert.deepEqual(elsewhere.changes, [], "nothing outside the deployment's own files");
  assert.match(elsewhere.manual[0]!, /pier found no such file/);
});

test("a file with another hard link, or a link that leads outside, is never edited: it goes to the manual steps", (t) => {
  const dir = project(t);
  const outside = tempDir(t);
  const deploymentFile = join(dir, "blue.yml");
  // requirements.txt is also a file outside the project: editing it would change that one too.
  writeFileSync(join(outside, "shared-requirements.txt"), file(dir, "model/requirements.txt"));
  rmSync(join(dir, "model", "requirements.txt"));
  linkSync(join(outside, "shared-requirements.txt"), join(dir, "model", "requirements.txt"));
  const linked = planFix([{ kind: "pin", file: "requirements.txt", requirement: "pandas==2.0.3" }], {
    deploymentFile,
  });
  assert.equal(after(linked, "requirements.txt"), undefined);
  assert.match(linked.manual.join("\n"), /requirements\.txt by hand: it has 2 hard links/);
  assert.match(after(linked, "conda.yaml")!, /pandas==2\.0\.3/, "its own files are still edited");

  writeFileSync(join(outside, "conda.yaml"), file(dir, "model/conda.yaml"));
  rmSync(join(dir, "model", "conda.yaml"));
  symlinkSync(join(outside, "conda.yaml"), join(dir, "model", "conda.yaml"));
  const symlinked = planFix([{ kind: "pin", file: "conda.yaml", requirement: "pandas==2.0.3" }], {
    deploymentFile,
  });
  assert.equal(after(symlinked, "conda.yaml"), undefined);
  assert.match(symlinked.manual.join("\n"), /conda\.yaml by hand: it leads to .*outside the model folder/);
});

function diagnosis(code: string, actions: Diagnosis["actions"]): Diagnosis {
  return {
    code: code as Diagnosis["code"],
    cause: `${code} happened`,
    evidence: ["log line 3"],
    fix: "do it",
    actions,
  };
}

test("rounds: a fix that helps is kept and proved, one that does not is undone, --dry-run writes nothing", async (t) => {
  const dir = project(t);
  const deploymentFile = join(dir, "blue.yml");
  const slow = diagnosis("ResourceNotReady", [
    { kind: "yaml", key: "readiness_probe.initial_delay", value: 29 },
  ]);
  const lines: string[] = [];
  const base = {
    deploymentFile,
    out: (line: string) => lines.push(line),
    backupDir: join(dir, "backups"),
    confirm: async () => true,
  };

  const planned = await runFix({
    ...base,
    dryRun: true,
    diagnose: async () => [slow],
    apply: async () => ({ state: "Succeeded", diagnoses: [] }),
  });
  assert.deepEqual(
    planned.rounds.map((r) => r.outcome),
    ["planned"],
  );
  assert.equal(file(dir, "blue.yml"), DEPLOYMENT);
  assert.match(lines.join("\n"), /- {2}initial_delay: 1 +# seconds\n\+ {2}initial_delay: 29 +# seconds/);

  // The change does not help: the same cause comes back, and the file is as it was.
  const undone = await runFix({
    ...base,
    dryRun: false,
    diagnose: async () => [slow],
    apply: async () => ({ state: "Failed", diagnoses: [slow] }),
  });
  assert.deepEqual(
    undone.rounds.map((r) => r.outcome),
    ["undone"],
  );
  assert.equal(undone.ok, false);
  assert.equal(file(dir, "blue.yml"), DEPLOYMENT, "restored");
  assert.equal(
    readFileSync(join(dir, "backups", "round-1", "0-blue.yml"), "utf8"),
    DEPLOYMENT,
    "the copy kept",
  );

  // The same cause again, asking for more than was written (a timeout that still ran out): the next
  // round writes that; once it stops asking for more, every round of that cause is undone.
  const timeout = (ms: number) =>
    diagnosis("RequestTimeout", [{ kind: "yaml", key: "request_settings.request_timeout_ms", value: ms }]);
  const asked = [timeout(200), timeout(600)];
  let attempt = 0;
  const grown = await runFix({
    ...base,
    dryRun: false,
    diagnose: async () => [timeout(200)],
    apply: async () =>
      ++attempt === 1
        ? { state: "Succeeded", diagnoses: [asked[1]!] }
        : { state: "Succeeded", diagnoses: [] },
    smoke: async () => ({ ok: true, detail: "200" }),
  });
  assert.deepEqual(
    grown.rounds.map((r) => [r.code, r.outcome]),
    [
      ["RequestTimeout", "moved-on"],
      ["RequestTimeout", "served"],
    ],
  );
  assert.match(file(dir, "blue.yml"), /request_timeout_ms: 600/);
  writeFileSync(join(dir, "blue.yml"), DEPLOYMENT);
  const stuck = await runFix({
    ...base,
    dryRun: false,
    diagnose: async () => [timeout(200)],
    apply: async () => ({
      state: "Succeeded",
      diagnoses: [attempt++ % 2 === 0 ? timeout(600) : timeout(200)],
    }),
  });
  assert.deepEqual(
    stuck.rounds.map((r) => r.outcome),
    ["moved-on", "undone"],
  );
  assert.equal(file(dir, "blue.yml"), DEPLOYMENT, "both rounds undone");

  // The first fix reveals the next cause; the second round serves and answers its smoke request.
  const memory = diagnosis("OutOfMemory", [{ kind: "yaml", key: "instance_type", value: "Standard_DS3_v2" }]);
  let applied = 0;
  const served = await runFix({
    ...base,
    dryRun: false,
    diagnose: async () => [slow],
    apply: async () =>
      ++applied === 1 ? { state: "Failed", diagnoses: [memory] } : { state: "Succeeded", diagnoses: [] },
    smoke: async () => ({ ok: true, detail: "200" }),
  });
  assert.deepEqual(
    served.rounds.map((r) => [r.code, r.outcome]),
    [
      ["ResourceNotReady", "moved-on"],
      ["OutOfMemory", "served"],
    ],
  );
  assert.equal(served.ok, true);
  assert.match(file(dir, "blue.yml"), /initial_delay: 29/);
  assert.match(file(dir, "blue.yml"), /instance_type: Standard_DS3_v2 +# small on purpose/);

  // A cause no file change can fix names what to edit, and changes nothing.
  const script = diagnosis("UserScriptInitFailed", []);
  const manual = await runFix({
    ...base,
    dryRun: false,
    diagnose: async () => [script],
    apply: async () => ({ state: "Failed", diagnoses: [] }),
  });
  assert.deepEqual(
    manual.rounds.map((r) => r.outcome),
    ["manual"],
  );
  assert.match(lines.join("\n"), /pier cannot change this in a file; by hand: do it/);
});

test("--fix asks before it writes: without a terminal to answer, it needs --yes (or --dry-run), and says so", async (t) => {
  const home = tempDir(t);
  const refused = await cli(["doctor", "fin", "blue", "--fix"], process.cwd(), { PIER_HOME: home });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /BadOptionValue: pier doctor --fix asks before it writes a file/);
  assert.match(refused.stderr, /Pass --yes to write without asking, or --dry-run/);
  const stray = await cli(["doctor", "fin", "blue", "--yes"], process.cwd(), { PIER_HOME: home });
  assert.equal(stray.code, 2, "--yes without --fix is a mistake worth naming");
  const history = await cli(["doctor", "history"], process.cwd(), { PIER_HOME: home });
  assert.equal(history.code, 0);
  assert.match(history.stdout, /No fixes applied yet/);
});
