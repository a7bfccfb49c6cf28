/**
 * `pier rollout` with real processes under a steady load from the test: a new model that answers like
 * the old one is promoted; new models that fail (model errors, a crash, slowness, other labels) are
 * rolled back at the right step with the right reason, and the clients see no non-2xx in any case;
 * thin evidence holds instead of promoting (then resumed and promoted by hand); a restart mid-rollout
 * resumes it.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import type { RolloutRecord } from "../../src/rollout/index.js";
import { engineerInputs, INPUT_SOURCE_COLUMNS, loadCsvTable, recordAt } from "../../src/training/index.js";
import { byStatus, Load, type LoadTarget } from "../chaos/load.js";
import { cli, type RunningPier, servePier, tempDir, trainedWorkspace, waitFor } from "../helpers.js";

test("rollouts under load: the good one is promoted, each bad one rolled back at its step for its reason, no client sees a failure", async (t) => {
  const work = await trainedWorkspace("pier-rollout-", 400);
  t.after(work.cleanup);
  // A model of another target (about half the rows positive, where HighAmount has 5 %): same inputs, other labels.
  const other = join(work.dir, "other-model");
  const trained = await cli([
    "train",
    "--data",
    work.csv,
    "--out",
    other,
    "--target",
    "Account Type",
    "--search",
    "0",
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  const home = join(tempDir(t), "home");
  let pier = await servePier(t, { home });
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);

  const file = (name: string, extra: Record<string, unknown> = {}) => {
    const path = join(work.dir, `${name}.yml`);
    writeFileSync(
      path,
      stringify({
        name,
        endpoint_name: "fin",
        model: work.model,
        instance_type: "Standard_DS3_v2",
        instance_count: 1,
        request_settings: { max_concurrent_requests_per_instance: 8 },
        ...extra,
      }),
    );
    return path;
  };
  const refused = await pier.run(["rollout", "start", "-e", "fin", "-f", file("green")]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /✘ RolloutNotApplicable: Endpoint 'fin' has no deployment with live traffic/);
  assert.match(refused.stderr, /pier deployment create -f blue.yml --all-traffic/);
  assert.equal((await pier.run(["deployment", "create", "-f", file("blue"), "--all-traffic"])).code, 0);

  // The load: 40 rows of the banking data, as the model takes them (records of the engineered inputs).
  const inputs = engineerInputs(loadCsvTable(work.csv, INPUT_SOURCE_COLUMNS));
  const rows = Array.from({ length: 40 }, (_, i) => recordAt(inputs, i));
  const target = async (up: RunningPier): Promise<LoadTarget> => {
    const credentials = await up.run(["endpoint", "get-credentials", "fin", "-o", "json"]);
    return {
      url: up.url,
      path: "/endpoints/fin/score",
      body: JSON.stringify({ input_data: rows }),
      headers: { authorization: `Bearer ${JSON.parse(credentials.stdout).primaryKey}` },
    };
  };
  let load = new Load(await target(pier), 4);
  t.after(() => load.stop());
  await waitFor(() => load.count(200) >= 100, "the load to flow");

  const rollout = async (args: string[], expected: number): Promise<RolloutRecord> => {
    const result = await pier.run([
      "rollout",
      "start",
      "-e",
      "fin",
      "--wait",
      "1",
      "--watch",
      "-o",
      "json",
      ...args,
    ]);
    assert.equal(result.code, expected, result.stdout + result.stderr);
    const record = JSON.parse(result.stdout) as RolloutRecord;
    assert.ok(record.state, result.stdout + result.stderr);
    return record;
  };
  const noClientFailures = (what: string) =>
    assert.deepEqual(
      Object.keys(byStatus(load.samples)).filter((s) => s !== "200"),
      [],
      `${what}: clients saw ${JSON.stringify(byStatus(load.samples))}`,
    );
  const endedAt = (record: RolloutRecord) => record.steps.at(-1)!;

  // 1. A model that answers as the old one does: promoted, the old deployment deleted.
  const good = await rollout(["-f", file("green")], 0);
  assert.equal(good.state, "Succeeded");
  assert.deepEqual(
    good.steps.map((s) => [s.label, s.verdict]),
    [
      ["smoke", "done"],
      ["shadow 20 %", "pass"],
      ["canary 10 %", "pass"],
      ["all 100 %", "pass"],
      ["promote", "done"],
    ],
  );
  const shadow = good.steps[1]!;
  assert.ok(shadow.compared! >= 30, "the shadow bake compared answers");
  assert.ok(
    shadow.checks!.some((c) =>
      /^label flip rate \(label\) 0 \(0 of \d+ values in \d+ compared requests; 99\.5 % lower bound 0\) ≤ 0\.05$/.test(
        c.line,
      ),
    ),
    shadow.checks!.map((c) => c.line).join("\n"),
  );
  const endpoint = JSON.parse((await pier.run(["endpoint", "show", "fin", "-o", "json"])).stdout);
  assert.deepEqual(endpoint.traffic, { green: 100 });
  assert.deepEqual(endpoint.deployments, ["green"], "blue deleted after promotion");
  noClientFailures("a good rollout");

  // 2. Every third request fails, shadow bake skipped: the canary step sees it, its clients do not.
  const errors = await rollout(
    [
      "-f",
      file("errors", { environment_variables: { PIER_CHAOS_ERROR_EVERY: "3" } }),
      "--shadow-percent",
      "0",
    ],
    1,
  );
  assert.equal(errors.state, "RolledBack");
  assert.equal(endedAt(errors).label, "canary 10 %");
  assert.match(
    errors.reason!,
    /^rolled back at step 2 \(canary 10 %\): errors \d+ of \d+ \(\d+ × 424\) vs the stable's \d+ of \d+: excess 99\.\d+ % lower bound [\d.]+ > 0\.01$/,
  );
  assert.ok(
    errors.diagnosis?.some((d) => d.code === "ModelError"),
    "the doctor's diagnosis is attached",
  );
  noClientFailures("a canary failing one request in three");

  // 3. A crash after 25 requests, during the canary.
  const crash = await rollout(
    [
      "-f",
      file("crash", { environment_variables: { PIER_CHAOS_CRASH_AFTER: "25" } }),
      "--shadow-percent",
      "0",
    ],
    1,
  );
  assert.equal(crash.state, "RolledBack");
  assert.equal(endedAt(crash).label, "canary 10 %");
  assert.match(crash.reason!, /the new deployment had Restarting|error rate/);
  noClientFailures("a canary that crashes");

  // 4. Slower than the stable by far more than the slack: caught in the shadow bake, before any client.
  const slow = await rollout(
    [
      "-f",
      file("slow", {
        // 60 ms more than the stable: slower past the ratio and the slack unless the stable itself takes 120 ms.
        environment_variables: { PIER_CHAOS_DELAY_MS: "60" },
        // Room for every mirrored request at once: the check that fails is latency, not admission.
        request_settings: { max_concurrent_requests_per_instance: 64 },
      }),
    ],
    1,
  );
  assert.equal(slow.state, "RolledBack");
  assert.equal(endedAt(slow).label, "shadow 20 %");
  // Judged against the stable in the same window, with the bounds named (never a figure of this machine).
  assert.match(
    slow.reason!,
    /latency p50 \d+\.\d ms vs \d+\.\d ms \(99\.5 % bounds: new ≥ \d+\.\d, stable ≤ \d+\.\d\): ratio ≥ \d+\.\d+ > 1\.5$/,
  );
  noClientFailures("a slow model");

  // 5. Other labels on a share of inputs: the answers disagree.
  const flipsFile = file("flips", { model: other });
  const flips = await rollout(["-f", flipsFile], 1);
  assert.equal(flips.state, "RolledBack");
  assert.equal(endedAt(flips).label, "shadow 20 %");
  assert.match(
    flips.reason!,
    /label flip rate \(label\) [\d.]+ \(\d+ of \d+ values in \d+ compared requests; 99\.\d+ % lower bound [\d.]+\) > 0\.05/,
  );
  noClientFailures("a model with other labels");
  assert.deepEqual(JSON.parse((await pier.run(["endpoint", "show", "fin", "-o", "json"])).stdout).traffic, {
    green: 100,
  });
  for (const name of ["errors", "crash", "slow", "flips"])
    assert.equal(
      (await pier.run(["deployment", "delete", "-e", "fin", "-n", name])).code,
      0,
      `delete ${name}`,
    );

  // 6. Too little evidence: held when the execution timeout passes, never promoted.
  const rolloutFile = join(work.dir, "thin-rollout.yml");
  writeFileSync(
    rolloutFile,
    stringify({ analysis: { min_requests: 1_000_000 }, maximum_execution_timeout_seconds: 3 }),
  );
  const held = await rollout(["-f", file("thin"), "-r", rolloutFile], 1);
  assert.equal(held.state, "Held");
  assert.match(
    held.reason!,
    /^held at step 2 \(shadow 20 %\): the execution timeout \(3 s\) passed with not enough evidence: \d+ requests on the new deployment, 1000000 needed$/,
  );
  assert.deepEqual(JSON.parse((await pier.run(["endpoint", "show", "fin", "-o", "json"])).stdout).traffic, {
    green: 100,
  });
  const second = await pier.run(["rollout", "start", "-e", "fin", "--deployment", "thin"]);
  assert.match(
    second.stderr,
    /✘ RolloutInProgress: Endpoint 'fin' already has rollout #\d+ \(green → thin\), Held/,
  );
  const manual = await pier.run(["endpoint", "update", "fin", "--traffic", "thin=100"]);
  assert.match(manual.stderr, /✘ RolloutInProgress: .*it owns the endpoint's traffic/);
  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  assert.match(
    metrics,
    new RegExp(`pier_rollout_state\\{endpoint="fin",rollout="${held.id}",state="Held"\\} 1`),
  );
  assert.match(metrics, /pier_rollout_weight\{endpoint="fin",deployment="green",kind="live"\} 100/);
  // Resumed, then promoted by hand: the analysis is skipped, and the record says who decided.
  const resumedByHand = JSON.parse(
    (await pier.run(["rollout", "resume", "-e", "fin", "-o", "json"])).stdout,
  ) as RolloutRecord;
  assert.equal(resumedByHand.state, "Running");
  const promoted = JSON.parse(
    (await pier.run(["rollout", "promote", "-e", "fin", "-o", "json"])).stdout,
  ) as RolloutRecord;
  assert.match(
    promoted.notes.join("\n"),
    /resumed by the user at step 2[\s\S]*promoted by the user at step \d+/,
  );
  await waitFor(async () => {
    const status = JSON.parse(
      (await pier.run(["rollout", "status", "-e", "fin", "-o", "json"])).stdout,
    ) as RolloutRecord;
    return status.state === "Succeeded";
  }, "the promotion");
  assert.deepEqual(JSON.parse((await pier.run(["endpoint", "show", "fin", "-o", "json"])).stdout).traffic, {
    thin: 100,
  });
  noClientFailures("a held rollout, resumed and promoted");

  // 7. pier restarts during the shadow bake: the rollout resumes and finishes.
  const started = await pier.run([
    "rollout",
    "start",
    "-e",
    "fin",
    "-f",
    file("late"),
    "--wait",
    "3",
    "-o",
    "json",
  ]);
  assert.equal(started.code, 0, started.stderr);
  await waitFor(async () => {
    const status = JSON.parse(
      (await pier.run(["rollout", "status", "-e", "fin", "-o", "json"])).stdout,
    ) as RolloutRecord;
    return status.steps.some((s) => s.label === "shadow 20 %");
  }, "the shadow bake");
  await load.stop();
  noClientFailures("before the restart");
  await pier.stop();
  pier = await servePier(t, { home });
  load = new Load(await target(pier), 4);
  const resumed = JSON.parse(
    (await pier.run(["rollout", "status", "-e", "fin", "--watch", "-o", "json"])).stdout,
  ) as RolloutRecord;
  assert.equal(resumed.state, "Succeeded", JSON.stringify(resumed, null, 1));
  assert.match(
    resumed.notes.join("\n"),
    /pier restarted during step 2 \(shadow 20 %\); the step starts again with a new window/,
  );
  await load.stop();
  noClientFailures("after the restart");
  const history = JSON.parse(
    (await pier.run(["rollout", "history", "-e", "fin", "-o", "json"])).stdout,
  ) as RolloutRecord[];
  assert.deepEqual(
    history.map((r) => r.state),
    ["Succeeded", "Succeeded", "RolledBack", "RolledBack", "RolledBack", "RolledBack", "Succeeded"],
  );
});
