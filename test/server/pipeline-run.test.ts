/**
 * `pier pipeline run` end to end with a real `pier up` under a steady load: a first run promotes its
 * model; the same run again skips its cached steps; a worse model (fewer, shallower trees) is held at
 * the gate with the numbers; forced past the gate, it is recorded as forced; a model of another
 * target passes a lenient gate and a person's approval, then is rolled back by the rollout because its
 * answers disagree with the champion's, and the run says so. The gate's semantics are checked
 * in-process against MLflow's MetricThreshold.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { judgeGate } from "../../src/pipeline/gate.js";
import type { RunRecord } from "../../src/pipeline/index.js";
import { Load } from "../chaos/load.js";
import { type RunningPier, servePier, tempDir, waitFor } from "../helpers.js";

test("the gate as MLflow's MetricThreshold: threshold, min_absolute_change, min_relative_change, greater_is_better", () => {
  const gate = (metrics: Record<string, unknown>, leakage: "reject" | "warn" = "reject") =>
    ({ metrics, leakage }) as never;
  const auc = { roc_auc: { threshold: 0.7, min_absolute_change: 0.01, greater_is_better: true } };
  assert.equal(judgeGate(gate(auc), { roc_auc: 0.8 }, { roc_auc: 0.78 }, []).verdict, "PROMOTE");
  const held = judgeGate(gate(auc), { roc_auc: 0.785 }, { roc_auc: 0.78 }, []);
  assert.equal(held.verdict, "HOLD");
  assert.deepEqual(held.reasons, [
    "roc_auc min_absolute_change: challenger 0.7850, champion 0.7800; needs ≥ champion + 0.0100 = 0.7900",
  ]);
  assert.equal(judgeGate(gate(auc), { roc_auc: 0.65 }, { roc_auc: 0.6 }, []).verdict, "REJECT");
  assert.equal(
    judgeGate(gate(auc), { roc_auc: 0.75 }, null, []).verdict,
    "PROMOTE",
    "no champion: the threshold alone",
  );
  const relative = { roc_auc: { min_relative_change: 0.05, greater_is_better: true } };
  assert.equal(judgeGate(gate(relative), { roc_auc: 0.85 }, { roc_auc: 0.8 }, []).verdict, "PROMOTE");
  assert.equal(judgeGate(gate(relative), { roc_auc: 0.83 }, { roc_auc: 0.8 }, []).verdict, "HOLD");
  const loss = { log_loss: { threshold: 0.5, greater_is_better: false } };
  assert.equal(judgeGate(gate(loss), { log_loss: 0.4 }, null, []).verdict, "PROMOTE");
  assert.equal(judgeGate(gate(loss), { log_loss: 0.6 }, null, []).verdict, "REJECT");
  const leak = [{ feature: "Transaction Amount", auc: 1 }];
  assert.equal(judgeGate(gate(auc), { roc_auc: 0.99 }, null, leak).verdict, "REJECT");
  assert.equal(judgeGate(gate(auc, "warn"), { roc_auc: 0.99 }, null, leak).verdict, "PROMOTE");
});

async function run(
  pier: RunningPier,
  file: string,
  ...flags: string[]
): Promise<{ code: number; record: RunRecord; stderr: string }> {
  const result = await pier.run(["pipeline", "run", "-f", file, "-o", "json", ...flags]);
  assert.ok(result.stdout.trim().startsWith("{"), result.stdout + result.stderr);
  return { code: result.code, record: JSON.parse(result.stdout) as RunRecord, stderr: result.stderr };
}

test("pipeline runs: promoted, cached, held at the gate, forced, approved then rolled back online", async (t) => {
  const dir = tempDir(t);
  const pier = await servePier(t);
  const pipeline = (name: string, extra: Record<string, unknown>) => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      stringify({
        name: "fin-anomaly",
        data: { synthetic: { rows: 3000, seed: 42 } },
        target: "Anomaly",
        train: { seed: 42, n_estimators: 40 },
        gate: { metrics: { roc_auc: { threshold: 0.6, min_absolute_change: 0, greater_is_better: true } } },
        register: { model: "fin-anomaly" },
        rollout: {
          endpoint: "fin",
          deployment: { request_settings: { max_concurrent_requests_per_instance: 8 } },
          spec: {
            strategy: { wait_interval_seconds: 1 },
            shadow: { mirror_percent: 50 },
            maximum_execution_timeout_seconds: 120,
          },
        },
        ...extra,
      }),
    );
    return file;
  };

  // 1. The first run: the endpoint is created and the model takes all traffic as @champion.
  const first = await run(pier, pipeline("first", {}));
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.record.state, "Succeeded");
  assert.deepEqual(
    first.record.steps.map((s) => [s.name, s.state]),
    [
      ["data", "done"],
      ["train", "done"],
      ["evaluate", "done"],
      ["gate", "done"],
      ["register", "done"],
      ["rollout", "done"],
    ],
  );
  assert.equal(first.record.gate?.verdict, "PROMOTE");
  assert.match(first.record.outcome!, /models:\/fin-anomaly\/1 promoted to @champion/);
  const shown = JSON.parse((await pier.run(["model", "list", "-o", "json"])).stdout)[0];
  assert.equal(shown.aliases.champion, 1);

  // A steady load on the endpoint from now on: the rollouts below are judged on it.
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout,
  ).primaryKey;
  const example = JSON.parse(readFileSync(join(first.record.challenger!.dir, "input_example.json"), "utf8"));
  const rows = Array.from({ length: 10 }, (_, i) =>
    Object.fromEntries(
      example.columns.map((c: string, j: number) => [c, example.data[i % example.data.length][j]]),
    ),
  );
  const load = new Load(
    {
      url: pier.url,
      path: "/endpoints/fin/score",
      body: JSON.stringify({ input_data: rows }),
      headers: { authorization: `Bearer ${key}` },
    },
    4,
  );
  t.after(() => load.stop());
  await waitFor(() => load.count(200) >= 50, "the load to flow");

  // 2. The same run again: nothing changed, so nothing is trained, registered or rolled out again.
  const again = await run(pier, pipeline("first", {}));
  assert.equal(again.record.state, "Succeeded");
  const state = Object.fromEntries(again.record.steps.map((s) => [s.name, s.state]));
  assert.deepEqual(
    [state.data, state.train, state.register, state.rollout],
    ["cached", "cached", "cached", "cached"],
  );
  assert.match(again.stderr, /↺ train +cached: unchanged inputs and settings/);

  // 3. A worse model: fewer, shallower trees. Held at the gate, with the numbers.
  const weak = pipeline("weak", { train: { seed: 42, n_estimators: 2, max_depth: 2 } });
  const held = await run(pier, weak);
  assert.equal(held.code, 1);
  assert.equal(held.record.state, "Held");
  assert.match(
    held.record.outcome!,
    /^gate HOLD: roc_auc min_absolute_change: challenger 0\.\d{4}, champion 0\.\d{4}; needs ≥ champion \+ 0 = 0\.\d{4}$/,
  );
  assert.equal(held.record.registered, undefined, "nothing registered past a failed gate");

  // 4. Forced past the gate: recorded as forced (answers not compared, so it is promoted if healthy).
  const forcedFile = pipeline("forced", {
    train: { seed: 42, n_estimators: 2, max_depth: 2 },
    rollout: {
      endpoint: "fin",
      deployment: { request_settings: { max_concurrent_requests_per_instance: 8 } },
      spec: {
        strategy: { wait_interval_seconds: 1 },
        shadow: { mirror_percent: 50 },
        analysis: { compare_answers: false },
      },
    },
  });
  const forced = await run(pier, forcedFile, "--force");
  assert.equal(forced.record.forced, true);
  assert.equal(forced.record.gate?.verdict, "HOLD");
  assert.match(forced.record.steps.find((s) => s.name === "gate")!.detail!, /passed by --force/);
  assert.equal(forced.record.state, "Succeeded", forced.record.outcome);
  const v2 = JSON.parse((await pier.run(["model", "list", "-o", "json"])).stdout)[0];
  assert.equal(v2.aliases.champion, 2);

  // 5. Another target passes a lenient gate and a person's approval; online its labels disagree with
  //    the champion's, so the rollout rolls it back and the run says so.
  const other = pipeline("other", {
    target: "Account Type",
    gate: { metrics: { roc_auc: { threshold: 0.3, greater_is_better: true } }, leakage: "warn" },
    approval: { required: true },
  });
  const waiting = await run(pier, other);
  assert.equal(waiting.record.state, "WaitingApproval");
  const approved = await pier.run([
    "pipeline",
    "approve",
    String(waiting.record.id),
    "--comment",
    "looks fine offline",
    "-o",
    "json",
  ]);
  const rolledBack = JSON.parse(approved.stdout) as RunRecord;
  assert.equal(rolledBack.state, "RolledBack", rolledBack.outcome);
  assert.match(
    rolledBack.outcome!,
    /rollout #\d+ RolledBack: rolled back at step \d \(.*\): (label flip rate|relative \|Δ\|)/,
  );
  assert.equal(rolledBack.approval?.decision, "approved");
  assert.equal(rolledBack.approval?.comment, "looks fine offline");
  assert.equal(JSON.parse((await pier.run(["model", "list", "-o", "json"])).stdout)[0].aliases.champion, 2);

  // The records: listed, compared, shown as a report.
  const compare = await pier.run(["pipeline", "runs", "--compare", `${first.record.id},${held.record.id}`]);
  assert.match(compare.stdout, /n_estimators +40 +2/);
  const html = join(dir, "run.html");
  assert.equal((await pier.run(["pipeline", "show", String(rolledBack.id), "--html", html])).code, 0);
  const page = readFileSync(html, "utf8");
  assert.match(page, /ROC curve/);
  assert.match(page, /Confusion matrix/);
  assert.match(page, /approved by/);
  const statuses = Object.keys(Object.fromEntries((await load.stop()).map((s) => [String(s.status), 1])));
  assert.deepEqual(statuses, ["200"], "clients saw only 200 through every rollout");
});
