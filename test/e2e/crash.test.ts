/**
 * pier killed outright (kill -9), as only a real `pier up` process shows: under load, with an ONNX
 * deployment capturing its inputs, a Python model with two worker processes, and a pipeline run waiting
 * for its approval. Every instance process ends with pier (their invoke channel closes); every captured
 * line is whole (a torn tail is cut at the next start); the run is Interrupted, resumes from its cache
 * and is approved to the end.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import type { DeploymentView } from "../../src/engine/index.js";
import type { RunRecord } from "../../src/pipeline/index.js";
import { Load } from "../chaos/load.js";
import { pierKillRestart } from "../chaos/scenarios.js";
import { FIXTURES, processGone, startPier, tempDir, trainedWorkspace, waitFor } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";

/** Every captured line, and the files that end in a torn one. */
function captured(dir: string): { lines: number; torn: string[] } {
  let lines = 0;
  const torn: string[] = [];
  const files = (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }) : [])
    .filter((e) => e.isFile() && e.name.endsWith(".jsonl"))
    .map((e) => join(e.parentPath, e.name));
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) torn.push(file);
    for (const line of text
      .slice(0, text.lastIndexOf("\n") + 1)
      .split("\n")
      .filter(Boolean)) {
      JSON.parse(line);
      lines++;
    }
  }
  return { lines, torn };
}

test("kill -9 of pier under load: instances end with it, captured lines stay whole, a waiting pipeline run resumes", async (t) => {
  const work = await trainedWorkspace("pier-crash-", 500);
  t.after(work.cleanup);
  const dir = tempDir(t);
  const home = join(dir, "home");
  let pier = await startPier(t, { home });
  const yml = (name: string, doc: Record<string, unknown>) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      stringify({ endpoint_name: "fin", instance_type: "Standard_DS3_v2", instance_count: 1, ...doc }),
    );
    return file;
  };
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);
  const blue = yml("blue", {
    name: "blue",
    model: work.model,
    data_collector: {
      collections: { model_inputs: { enabled: "True" }, model_outputs: { enabled: "True" } },
    },
  });
  assert.equal((await pier.run(["deployment", "create", "-f", blue, "--all-traffic"])).code, 0);
  const workers = yml("workers", {
    name: "workers",
    model: join(FIXTURES, "mlflow/svc-tensor-output"),
    environment_variables: { PIER_PYTHON: PYTHON, WORKER_COUNT: 2 },
  });
  const created = await pier.run(["deployment", "create", "-f", workers, "-o", "json"]);
  assert.equal(created.code, 0, created.stderr);

  const pipeline = join(dir, "pipeline.yml");
  writeFileSync(
    pipeline,
    stringify({
      name: "resumable",
      data: { synthetic: { rows: 1000, seed: 5 } },
      target: "Anomaly",
      train: { n_estimators: 10 },
      gate: { metrics: { roc_auc: { threshold: 0.5, greater_is_better: true } }, leakage: "warn" },
      approval: { required: true },
      register: { model: "resumable" },
      rollout: { endpoint: "fresh" },
    }),
  );
  const waiting = JSON.parse(
    (await pier.run(["pipeline", "run", "-f", pipeline, "-o", "json"])).stdout,
  ) as RunRecord;
  assert.equal(waiting.state, "WaitingApproval");

  const show = async (name: string) =>
    JSON.parse(
      (await pier.run(["deployment", "show", "-e", "fin", "-n", name, "-o", "json"])).stdout,
    ) as DeploymentView;
  const onnxHost = (await show("blue")).instances[0]!.pid;
  const pythonHost = (await show("workers")).instances[0]!.pid;
  const pythonWorkers = readFileSync(`/proc/${pythonHost}/task/${pythonHost}/children`, "utf8")
    .split(" ")
    .filter(Boolean)
    .map(Number);
  assert.equal(pythonWorkers.length, 2);

  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout,
  ).primaryKey;
  const example = JSON.parse(readFileSync(join(work.model, "input_example.json"), "utf8"));
  const load = new Load(
    {
      url: pier.url,
      path: "/endpoints/fin/score",
      body: JSON.stringify({ input_data: example }),
      headers: { authorization: `Bearer ${key}` },
    },
    4,
  );
  t.after(() => load.stop());
  await waitFor(() => load.count(200) >= 300, "the load to flow", 30_000);
  process.kill(pier.pid, "SIGKILL");
  await pier.exited;
  await load.stop();

  for (const pid of [onnxHost, pythonHost, ...pythonWorkers])
    assert.ok(await processGone(pid, 5000), `process ${pid} outlived pier`);
  const afterKill = captured(join(home, "modelDataCollector"));
  assert.ok(afterKill.lines > 300, `${afterKill.lines} lines captured`);

  pier = await startPier(t, { home });
  const restarted = captured(join(home, "modelDataCollector"));
  assert.deepEqual(restarted.torn, [], "no file ends in a torn line after pier starts again");
  assert.ok(restarted.lines >= afterKill.lines);

  const interrupted = JSON.parse(
    (await pier.run(["pipeline", "show", String(waiting.id), "-o", "json"])).stdout,
  ) as RunRecord;
  assert.equal(interrupted.state, "Interrupted");
  assert.match(
    interrupted.outcome!,
    /interrupted when pier stopped during approval: pier pipeline resume \d+/,
  );
  const resumed = await pier.run(["pipeline", "resume", String(waiting.id), "-o", "json"]);
  assert.equal((JSON.parse(resumed.stdout) as RunRecord).state, "WaitingApproval");
  assert.match(resumed.stderr, /↺ train +cached/);
  const approved = JSON.parse(
    (await pier.run(["pipeline", "approve", String(waiting.id), "-o", "json"])).stdout,
  ) as RunRecord;
  assert.equal(approved.state, "Succeeded", approved.outcome);
  assert.match(
    approved.outcome!,
    /models:\/resumable\/1 promoted to @champion \(first deployment of fresh\)/,
  );
});

test("pier killed under load and restarted on its port: no instance outlives it, no 5xx once it is back", async (t) => {
  const work = await trainedWorkspace("pier-crash-restart-", 300);
  t.after(work.cleanup);
  const report = await pierKillRestart(t, work, { seconds: 2, clients: 8 });
  console.log(`${report.scenario}: ${JSON.stringify(report.figures)}`);
  assert.deepEqual(report.failures, [], report.scenario);
});
