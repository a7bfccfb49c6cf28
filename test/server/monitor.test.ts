/**
 * Monitoring with pier built in this process: data capture as Azure's data collector writes it (layout, record
 * shape, sampling, off), the monitor's verdicts on undrifted, drifted and thin windows, alerts that
 * fire and resolve with a local webhook receiving Alertmanager's payload (after a failed first
 * delivery), an alert that rolls back a rollout whose shadowed traffic drifts, the HTML report, the
 * inference servers' metric names (whole lines after `kill -9` of pier: test/e2e/crash.test.ts).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { loadAlertSettings, type MonitorReport } from "../../src/monitor/index.js";
import { applyShifts, modelInputRows, synthesizeBankingRecords } from "../../src/training/index.js";
import { post, servePier, tempDir, trainedWorkspace, waitFor } from "../helpers.js";

const jsonlFiles = (dir: string): string[] =>
  (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }) : [])
    .filter((e) => e.isFile() && e.name.endsWith(".jsonl"))
    .map((e) => join(e.parentPath, e.name));

/** Every line of every capture file: parsed, and whether the file ends with a newline. */
function captured(dir: string): { lines: Record<string, unknown>[]; torn: string[] } {
  const lines: Record<string, unknown>[] = [];
  const torn: string[] = [];
  for (const file of jsonlFiles(dir)) {
    const text = readFileSync(file, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) torn.push(file);
    const whole = text.slice(0, text.lastIndexOf("\n") + 1);
    for (const line of whole.split("\n").filter(Boolean))
      lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return { lines, torn };
}

test("monitoring: capture as Azure writes it, drift verdicts, alerts to a webhook, an alert that rolls a rollout back", async (t) => {
  const work = await trainedWorkspace("pier-monitor-", 600);
  t.after(work.cleanup);

  // The webhook receiver: answers 503 to the very first delivery, so pier has to retry it.
  const received: Record<string, unknown>[] = [];
  let deliveries = 0;
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      deliveries++;
      if (deliveries === 1) return res.writeHead(503).end();
      received.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  t.after(() => receiver.close());
  const rules = join(work.dir, "alerts.yml");
  writeFileSync(
    rules,
    stringify({
      evaluate_every: "1h",
      webhook: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, timeout: "5s" },
      rules: [
        // A window long enough for a busy machine to send and evaluate inside it, short enough to resolve.
        { name: "DataDrift", signal: "data_drift", window: "15s", severity: "critical", deployment: "blue" },
        { name: "GreenDrift", signal: "data_drift", window: "1h", deployment: "green", action: "rollback" },
      ],
    }),
  );

  const home = join(tempDir(t), "home");
  const pier = await servePier(t, { home, alerts: loadAlertSettings(rules) });
  assert.equal((await pier.run(["endpoint", "create", "-n", "fin"])).code, 0);
  const deploy = async (name: string, extra: Record<string, unknown>, all = false) => {
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
    const created = await pier.run(["deployment", "create", "-f", path, ...(all ? ["--all-traffic"] : [])]);
    assert.equal(created.code, 0, created.stderr);
  };
  const everything = {
    data_collector: {
      sampling_rate: 1.0,
      request_logging: { capture_headers: ["x-client-tag", "Authorization"] },
      collections: {
        model_inputs: { enabled: "True" },
        model_outputs: { enabled: "True" },
        request: { enabled: "True" },
        response: { enabled: "True" },
      },
    },
  };
  await deploy("blue", everything, true);
  await deploy("half", {
    data_collector: { sampling_rate: 0.5, collections: { model_inputs: { enabled: "True" } } },
  });
  await deploy("plain", {});
  const key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "fin", "-o", "json"])).stdout,
  ).primaryKey;
  const rowsOf = (seed: number, n: number, shifts: Parameters<typeof applyShifts>[1] = []) =>
    modelInputRows(applyShifts(synthesizeBankingRecords({ rows: n, seed }), shifts, seed));
  const send = async (rows: Record<string, unknown>[], deployment: string, perRequest = 10) => {
    const answers = [];
    for (let i = 0; i < rows.length; i += perRequest)
      answers.push(
        await post(
          `${pier.url}/endpoints/fin/score`,
          { input_data: rows.slice(i, i + perRequest) },
          { authorization: `Bearer ${key}`, "azureml-model-deployment": deployment, "x-client-tag": `t${i}` },
        ),
      );
    for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
    return answers;
  };
  const monitor = async (...args: string[]): Promise<MonitorReport> => {
    const result = await pier.run(["monitor", "-e", "fin", "-o", "json", ...args]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as MonitorReport;
  };

  // Capture: the layout, and each record as Azure's data collector writes it.
  const answers = await send(rowsOf(11, 300), "blue");
  await waitFor(
    () => captured(join(home, "modelDataCollector/fin/blue")).lines.length >= 120,
    "30 requests × 4 collections captured",
  );
  const blueFiles = jsonlFiles(join(home, "modelDataCollector/fin/blue")).map((f) =>
    relative(join(home, "modelDataCollector"), f),
  );
  for (const f of blueFiles)
    assert.match(
      f,
      /^fin\/blue\/(model_inputs|model_outputs|request|response)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/blue-[\w-]+\.jsonl$/,
    );
  const records = captured(join(home, "modelDataCollector/fin/blue")).lines;
  const ofType = (type: string) => records.filter((r) => r.type === `azureml.inference.${type}`);
  assert.deepEqual(
    ["model_inputs", "model_outputs", "request", "response"].map((c) => ofType(c).length),
    [30, 30, 30, 30],
  );
  const first = answers[0]!;
  const requestId = first.headers.get("x-request-id");
  const mine = records.filter((r) => r.xrequestid === requestId);
  assert.equal(mine.length, 4, "a request's four records carry its x-request-id");
  assert.equal(new Set(mine.map((r) => r.correlationid)).size, 1, "and share one correlationid");
  const input = mine.find((r) => r.type === "azureml.inference.model_inputs")!;
  for (const field of [
    "specversion",
    "id",
    "source",
    "type",
    "datacontenttype",
    "time",
    "data",
    "correlationid",
    "xrequestid",
    "modelversion",
    "collectdatatype",
    "agent",
    "contentrange",
  ])
    assert.ok(field in input, `model_inputs records have ${field}`);
  assert.equal(input.source, "/endpoints/fin/deployments/blue");
  assert.equal(input.modelversion, "1");
  assert.equal((input.data as unknown[]).length, 10);
  assert.deepEqual(
    Object.keys((input.data as Record<string, unknown>[])[0]!).sort(),
    Object.keys(rowsOf(11, 1)[0]!).sort(),
  );
  const output = mine.find((r) => r.type === "azureml.inference.model_outputs")!;
  assert.deepEqual(output.data, first.body, "model_outputs holds the model's answer");
  const request = mine.find((r) => r.type === "azureml.inference.request")!;
  assert.deepEqual(request.headers, { "x-client-tag": "t0" }, "the key is never captured, even when listed");
  assert.equal(mine.find((r) => r.type === "azureml.inference.response")!.statuscode, 200);

  // Sampling: half of the requests are captured; a deployment with no data_collector writes nothing.
  await send(rowsOf(12, 200), "half", 1);
  await send(rowsOf(13, 20), "plain", 1);
  const half = await waitFor(async () => {
    const report = await monitor("-n", "half");
    return report.deployments[0]!.captured.records > 0 && report.deployments[0]!;
  }, "the sampled deployment's records");
  assert.ok(
    half.captured.records >= 65 && half.captured.records <= 135,
    `${half.captured.records} of 200 sampled at 0.5`,
  );
  assert.deepEqual(readdirSync(join(home, "modelDataCollector/fin")).sort(), ["blue", "half"]);
  const plain = (await monitor("-n", "plain")).deployments[0]!;
  assert.equal(plain.capturing, false);
  assert.equal(plain.summary.verdict, "no data");

  // Verdicts: undrifted traffic flags nothing; a thin window says insufficient data.
  const undrifted = (await monitor("-n", "blue")).deployments[0]!;
  assert.equal(undrifted.captured.rows, 300);
  assert.equal(undrifted.baseline?.origin, "model package");
  assert.deepEqual(
    undrifted.summary.drift,
    [],
    JSON.stringify(undrifted.data_drift.map((d) => [d.name, d.value])),
  );
  assert.ok(undrifted.data_drift.length === 8 && undrifted.prediction_drift.length === 3);
  const thinSince = new Date().toISOString();
  await send(rowsOf(14, 20), "blue");
  const thin = (await monitor("-n", "blue", "--since", thinSince)).deployments[0]!;
  assert.equal(thin.captured.rows, 20);
  assert.equal(thin.summary.verdict, "insufficient data");
  assert.ok(thin.data_drift.every((d) => d.verdict === "insufficient data"));

  // Drifted traffic: exactly the two shifted features are flagged, and the drift alert fires.
  const since = new Date().toISOString();
  await send(
    rowsOf(15, 400, [
      { column: "Age", op: "+", by: 15 },
      { column: "Transaction Type", op: "=", value: "Transfer", share: 0.7 },
    ]),
    "blue",
  );
  // Evaluated at once, while the alert's window holds the drifted rows.
  const alerts = await pier.run(["monitor", "alerts", "-e", "fin", "--now", "-o", "json"]);
  const drifted = (await monitor("-n", "blue", "--since", since)).deployments[0]!;
  assert.deepEqual(drifted.summary.drift.sort(), ["Age", "Transaction Type"]);
  assert.equal(drifted.captured.rows, 400);
  const firing = (
    JSON.parse(alerts.stdout) as {
      alerts: { rule: string; state: string; deployment: string; summary: string }[];
    }
  ).alerts.filter((a) => a.state === "firing" && a.rule === "DataDrift");
  assert.deepEqual(
    firing.map((a) => a.deployment),
    ["blue"],
    alerts.stdout,
  );
  assert.match(
    firing[0]!.summary,
    /data drift in Age \(NWD [\d.]+ > 0\.1\), Transaction Type \(JSD [\d.]+ > 0\.1\)/,
  );
  const about = (p: Record<string, unknown>) =>
    (p.commonLabels as Record<string, string>).alertname === "DataDrift";
  const fired = await waitFor(
    () => received.find((p) => p.status === "firing" && about(p)),
    "the firing alert at the webhook",
  );
  assert.ok(deliveries >= 2, "the first delivery failed and was retried");
  const alert = (fired.alerts as Record<string, unknown>[])[0]!;
  assert.deepEqual(alert.labels, {
    alertname: "DataDrift",
    endpoint: "fin",
    deployment: "blue",
    severity: "critical",
  });
  assert.equal(alert.endsAt, "0001-01-01T00:00:00Z");
  assert.equal(fired.version, "4");

  // Capture heals: the folder removed while serving is made again on the next write, nothing lost.
  rmSync(join(home, "modelDataCollector/fin/blue"), { recursive: true, force: true });
  await send(rowsOf(40, 50), "blue");
  await waitFor(
    () => captured(join(home, "modelDataCollector/fin/blue")).lines.length >= 20,
    "5 requests × 4 collections captured into a folder made again",
  );
  const healthy = await (await fetch(`${pier.url}/metrics`)).text();
  assert.doesNotMatch(healthy, /pier_data_collection_errors_total\{[^}]*\} [1-9]/, "no record lost");
  // A folder that cannot be made (a file in its place): the loss is a metric and one event, not a line a record.
  rmSync(join(home, "modelDataCollector/fin/blue"), { recursive: true, force: true });
  writeFileSync(join(home, "modelDataCollector/fin/blue"), "in the way");
  await send(rowsOf(41, 50), "blue");
  const lost = await waitFor(
    () => {
      const events = pier.pier.engine.store.events("fin", "blue").filter((e) => e.kind === "CaptureLost");
      return events.length > 0 && events;
    },
    "a CaptureLost event",
    30_000,
  );
  assert.equal(lost.length, 1, "one event for the interval");
  assert.match(lost[0]!.message, /captured data lost: 20 record\(s\) of fin\/blue could not be written/);
  assert.match(
    await (await fetch(`${pier.url}/metrics`)).text(),
    /pier_data_collection_errors_total\{reason="write"\} 20/,
  );
  rmSync(join(home, "modelDataCollector/fin/blue"), { force: true });

  // Traffic back to normal: once the 15 s window holds only undrifted rows, the alert resolves.
  let seed = 100;
  await waitFor(
    async () => {
      await send(rowsOf(seed++, 100), "blue");
      await pier.run(["monitor", "alerts", "--now"]);
      return received.some((p) => p.status === "resolved" && about(p));
    },
    "the alert to resolve",
    90_000,
  );
  const resolved = received.find((p) => p.status === "resolved" && about(p))!;
  assert.notEqual((resolved.alerts as Record<string, unknown>[])[0]!.endsAt, "0001-01-01T00:00:00Z");
  const token = readFileSync(join(home, "api-token"), "utf8").trim();
  const events = (await (
    await fetch(`${pier.url}/api/v1/endpoints/fin/events`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { kind: string }[];
  assert.ok(events.some((e) => e.kind === "AlertFiring") && events.some((e) => e.kind === "AlertResolved"));

  // The report: one self-contained page with its plots.
  const html = join(work.dir, "report.html");
  assert.equal((await pier.run(["monitor", "-e", "fin", "--html", html])).code, 0);
  const page = readFileSync(html, "utf8");
  assert.match(page, /<svg/);
  assert.match(page, /Transaction Type/);
  assert.doesNotMatch(page, /<script|<link|src="http/);

  // Continuity: a new deployment whose YAML has no data_collector takes the stable's, and says so.
  const inherited = pier.pier.rollouts.inherit("fin", { name: "green", endpoint_name: "fin" });
  assert.deepEqual(
    inherited.document.data_collector,
    pier.pier.engine.store.deployment("fin", "blue")!.spec.data_collector,
  );
  assert.match(
    inherited.notes[0]!,
    /green inherits blue's data_collector \(model_inputs.*\), so `pier monitor` goes on after the promotion/,
  );
  const own = { name: "green", data_collector: { collections: { model_inputs: { enabled: "True" } } } };
  assert.equal(pier.pier.rollouts.inherit("fin", own).document, own, "its own data_collector is kept");

  // An alert tied to a rollout: the new deployment's mirrored traffic drifts, the alert rolls it back.
  await deploy("green", { data_collector: { collections: { model_inputs: { enabled: "True" } } } });
  const rolloutFile = join(work.dir, "rollout.yml");
  writeFileSync(
    rolloutFile,
    stringify({
      shadow: { mirror_percent: 50 },
      analysis: { min_requests: 1_000_000 },
      strategy: { wait_interval_seconds: 3600 },
    }),
  );
  const started = await pier.run([
    "rollout",
    "start",
    "-e",
    "fin",
    "--deployment",
    "green",
    "-r",
    rolloutFile,
  ]);
  assert.equal(started.code, 0, started.stderr);
  const unpinned = async (rows: Record<string, unknown>[]) => {
    for (let i = 0; i < rows.length; i += 10) {
      const answer = await post(
        `${pier.url}/endpoints/fin/score`,
        { input_data: rows.slice(i, i + 10) },
        { authorization: `Bearer ${key}` },
      );
      assert.equal(answer.status, 200);
    }
  };
  const rolledBack = await waitFor(
    async () => {
      await unpinned(rowsOf(seed++, 200, [{ column: "Age", op: "+", by: 20 }]));
      await pier.run(["monitor", "alerts", "--now"]);
      const status = JSON.parse((await pier.run(["rollout", "status", "-e", "fin", "-o", "json"])).stdout);
      return status.state === "RolledBack" && status;
    },
    "the alert to roll the rollout back",
    30_000,
  );
  assert.match(
    rolledBack.reason,
    /^rolled back at step 2 \(shadow 50 %\): alert GreenDrift: green: data drift in Age/,
  );
  assert.deepEqual(JSON.parse((await pier.run(["endpoint", "show", "fin", "-o", "json"])).stdout).traffic, {
    blue: 100,
  });

  // Inference servers' metric names beside pier's own.
  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  assert.match(
    metrics,
    /request_predict_seconds_bucket\{le="0\.005",model_name="[^"]+",model_version="1",endpoint="fin",deployment="blue"\}/,
  );
  assert.match(metrics, /model_infer_request_success\{[^}]*deployment="blue"\} \d+/);
  assert.match(metrics, /nv_inference_count\{[^}]*deployment="blue"\} \d+/);
  assert.match(
    metrics,
    /pier_data_collection_events_total\{endpoint="fin",deployment="blue",collection="model_inputs"\} \d+/,
  );
});
