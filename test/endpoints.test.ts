import assert from "node:assert/strict";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { stringify } from "yaml";
import type { DeploymentView } from "../src/engine/index.js";
import { cli, type PierUp, post, processGone, startPier, trainedWorkspace } from "./helpers.js";

let work: string;
let example: { columns: string[]; data: unknown[][] };

before(async () => {
  const workspace = await trainedWorkspace("pier-endpoints-", 800);
  work = workspace.dir;
  example = JSON.parse(readFileSync(join(work, "model/input_example.json"), "utf8"));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Readiness gives up before liveness, so a frozen instance is first Unready, then restarted. */
const FAST_READINESS = { initial_delay: 1, period: 1, timeout: 1, failure_threshold: 2 };
const FAST_LIVENESS = { initial_delay: 1, period: 1, timeout: 1, failure_threshold: 5 };

/** Writes YAML next to the trained model and returns its path. */
function yamlFile(name: string, doc: Record<string, unknown>): string {
  const path = join(work, `${name}.yml`);
  writeFileSync(path, stringify(doc));
  return path;
}

async function endpoint(pier: PierUp, name: string, extra: Record<string, unknown> = {}) {
  const result = await pier.run([
    "endpoint",
    "create",
    "-f",
    yamlFile(`ep-${name}`, {
      $schema: "https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json",
      name,
      auth_mode: "key",
      ...extra,
    }),
  ]);
  assert.equal(result.code, 0, result.stderr);
}

async function deploy(
  pier: PierUp,
  endpointName: string,
  name: string,
  extra: Record<string, unknown> = {},
  flags: string[] = [],
) {
  const file = yamlFile(`${endpointName}-${name}`, {
    name,
    endpoint_name: endpointName,
    model: "./model",
    instance_type: "Standard_DS3_v2",
    instance_count: 1,
    ...extra,
  });
  return pier.run(["deployment", "create", "-f", file, ...flags, "-o", "json"]);
}

async function keys(pier: PierUp, name: string): Promise<{ primaryKey: string; secondaryKey: string }> {
  const result = await pier.run(["endpoint", "get-credentials", name, "-o", "json"]);
  return JSON.parse(result.stdout);
}

const splitBody = () => ({
  input_data: { columns: example.columns, index: example.data.map((_, i) => i), data: example.data },
});

test("deploy from YAML, score with a key, and see every step, log and header", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "fin");
  const created = await deploy(pier, "fin", "blue", {}, ["--all-traffic"]);
  assert.equal(created.code, 0, created.stdout + created.stderr);
  const view = JSON.parse(created.stdout);
  assert.equal(view.provisioning_state, "Succeeded");
  assert.equal(view.instances[0].state, "Ready");
  for (const step of ["model", "environment", "instances", "done"])
    assert.match(created.stderr, new RegExp(`✔ ${step}`));
  assert.match(created.stderr, /\(\d+(\.\d+)? ms\)/, "steps are timed");

  const { primaryKey, secondaryKey } = await keys(pier, "fin");
  const url = `${pier.url}/endpoints/fin/score`;
  const scored = await post(url, splitBody(), {
    authorization: `Bearer ${primaryKey}`,
    "x-ms-client-request-id": "client-42!@#",
  });
  assert.equal(scored.status, 200, JSON.stringify(scored.body));
  assert.equal(scored.body.length, example.data.length);
  assert.ok([0, 1].includes(scored.body[0].label));
  assert.equal(scored.body[0].probabilities.length, 2);
  assert.equal(scored.headers.get("azureml-model-deployment"), "blue");
  assert.match(scored.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  assert.equal(scored.headers.get("x-ms-client-request-id"), "client-42");
  assert.equal(
    (await post(url, splitBody(), { authorization: `Bearer ${secondaryKey}` })).status,
    200,
    "the secondary key works too",
  );

  const logs = await pier.run(["deployment", "get-logs", "-e", "fin", "-n", "blue", "--lines", "10"]);
  assert.match(logs.stdout, /model loaded from .* in [\d.]+ ms/);
  const init = await pier.run([
    "deployment",
    "get-logs",
    "-e",
    "fin",
    "-n",
    "blue",
    "--container",
    "storage-initializer",
  ]);
  assert.match(init.stdout, /verified model\/model\.onnx sha256:[0-9a-f]{64}/);

  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  assert.match(metrics, /pier_requests_total\{endpoint="fin",deployment="blue",status="200"\} 2/);
  assert.match(
    metrics,
    /pier_instance_state\{endpoint="fin",deployment="blue",instance="[^"]+",state="Ready"\} 1/,
  );

  const invoke = await pier.run([
    "endpoint",
    "invoke",
    "fin",
    "--request-file",
    yamlFile("req", {}).replace(/\.yml$/, ".yml"),
  ]);
  assert.notEqual(invoke.code, 0, "an empty YAML body is not a valid request");
});

test("auth: missing or wrong keys get 401; regenerating a key retires only that key; aml_token expires", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "keyed");
  assert.equal((await deploy(pier, "keyed", "blue", {}, ["--all-traffic"])).code, 0);
  const url = `${pier.url}/endpoints/keyed/score`;
  assert.equal((await post(url, splitBody())).status, 401);
  const wrong = await post(url, splitBody(), { authorization: "Bearer not-the-key" });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, "Unauthorized");
  const before = await keys(pier, "keyed");
  const regenerated = await pier.run([
    "endpoint",
    "regenerate-keys",
    "keyed",
    "--key-type",
    "primary",
    "-o",
    "json",
  ]);
  const after = JSON.parse(regenerated.stdout);
  assert.notEqual(after.primaryKey, before.primaryKey);
  assert.equal(after.secondaryKey, before.secondaryKey);
  assert.equal((await post(url, splitBody(), { authorization: `Bearer ${before.primaryKey}` })).status, 401);
  assert.equal((await post(url, splitBody(), { authorization: `Bearer ${after.primaryKey}` })).status, 200);

  await endpoint(pier, "tokened", { auth_mode: "aml_token" });
  assert.equal((await deploy(pier, "tokened", "blue", {}, ["--all-traffic"])).code, 0);
  const token = JSON.parse((await pier.run(["endpoint", "get-credentials", "tokened", "-o", "json"])).stdout);
  assert.ok(token.accessToken && token.expiryTimeUtc > Date.now() / 1000);
  const tokenUrl = `${pier.url}/endpoints/tokened/score`;
  assert.equal(
    (await post(tokenUrl, splitBody(), { authorization: `Bearer ${token.accessToken}` })).status,
    200,
  );
  assert.equal(
    (await post(tokenUrl, splitBody(), { authorization: `Bearer ${token.accessToken}x` })).status,
    401,
  );
  assert.equal(
    (await post(url, splitBody(), { authorization: `Bearer ${token.accessToken}` })).status,
    401,
    "a token is not a key",
  );
});

test("request formats: Azure /score, MLflow /invocations, CSV and the v2 protocol; schema enforcement gives 400s", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "formats");
  assert.equal((await deploy(pier, "formats", "blue", {}, ["--all-traffic"])).code, 0);
  const { primaryKey } = await keys(pier, "formats");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const score = `${pier.url}/endpoints/formats/score`;
  const invocations = `${pier.url}/endpoints/formats/invocations`;
  const records = example.data.map((row) => Object.fromEntries(example.columns.map((c, i) => [c, row[i]])));
  const expected = (await post(score, splitBody(), auth)).body;

  for (const body of [
    { input_data: example.data },
    { input_data: records },
    records,
    example.data,
    { data: example.data },
    { input_data: Object.fromEntries(example.columns.map((c, i) => [c, example.data.map((r) => r[i])])) },
  ]) {
    const result = await post(score, body, auth);
    assert.equal(result.status, 200, JSON.stringify(body).slice(0, 80));
    assert.deepEqual(result.body, expected);
  }
  for (const body of [
    { dataframe_split: { columns: example.columns, data: example.data } },
    { dataframe_records: records },
    { instances: records },
    { inputs: Object.fromEntries(example.columns.map((c, i) => [c, example.data.map((r) => r[i])])) },
  ]) {
    const result = await post(invocations, body, auth);
    assert.equal(result.status, 200, Object.keys(body)[0]);
    assert.deepEqual(result.body, { predictions: expected });
  }
  const csv = `${example.columns.join(",")}\n${example.data.map((r) => r.join(",")).join("\n")}\n`;
  assert.deepEqual((await post(invocations, csv, { ...auth, "content-type": "text/csv" })).body, {
    predictions: expected,
  });
  assert.equal((await post(invocations, "x", { ...auth, "content-type": "text/plain" })).status, 415);
  const legacy = await post(invocations, { columns: example.columns, data: example.data }, auth);
  assert.equal(legacy.status, 400);
  assert.match(legacy.body.error.message, /exactly one of the input fields/);

  const v2 = await post(
    `${pier.url}/endpoints/formats/v2/models/formats/infer`,
    {
      inputs: example.columns.map((c, i) => ({
        name: c,
        shape: [example.data.length],
        datatype: typeof example.data[0]![i] === "string" ? "BYTES" : "FP64",
        data: example.data.map((r) => r[i]),
      })),
    },
    auth,
  );
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  assert.deepEqual(
    v2.body.outputs.map((o: { name: string }) => o.name),
    ["label", "probabilities"],
  );
  assert.deepEqual(v2.body.outputs[1].shape, [example.data.length, 2]);

  const missing = await post(
    score,
    { input_data: records.map(({ Gender, ...rest }) => ({ ...rest, Colour: "red" })) },
    auth,
  );
  assert.equal(missing.status, 400);
  assert.match(
    missing.body.error.message,
    /^Model is missing inputs \["Gender"\]\. Note that there were extra inputs: \["Colour"\]/,
  );
  const wrongType = await post(score, { input_data: [{ ...records[0], Age: "forty" }] }, auth);
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.body.error.message, /Incompatible input types for column Age/);
  assert.equal((await post(score, "{not json", auth)).status, 400);
  assert.equal((await post(score, { input_data: [] }, auth)).status, 400);
  assert.equal(
    (await post(score, { input_data: [{ ...records[0], Extra: 1 }] }, auth)).status,
    200,
    "extra columns are dropped",
  );
});

test("traffic: weights split requests, the header pins a deployment even at 0%, mirror copies without answering", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "split");
  assert.equal((await deploy(pier, "split", "blue", {}, ["--all-traffic"])).code, 0);
  assert.equal((await deploy(pier, "split", "green")).code, 0);
  const { primaryKey } = await keys(pier, "split");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/split/score`;
  const pinned = await post(url, splitBody(), { ...auth, "azureml-model-deployment": "green" });
  assert.equal(pinned.headers.get("azureml-model-deployment"), "green", "pinned to green at 0%");

  const bad = await pier.run(["endpoint", "update", "split", "--traffic", "blue=60 green=30"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /must add up to 0 or 100/);
  assert.equal((await pier.run(["endpoint", "update", "split", "--traffic", "blue=50 green=50"])).code, 0);
  const counts: Record<string, number> = { blue: 0, green: 0 };
  const n = 400;
  for (let i = 0; i < n; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: 20 }, () => post(url, { input_data: example.data.slice(0, 1) }, auth)),
    );
    for (const r of batch) counts[r.headers.get("azureml-model-deployment")!]! += 1;
  }
  // Binomial(400, 0.5): sd 10, so 140–260 is a six-sigma band.
  assert.ok(counts.blue! > 140 && counts.blue! < 260, JSON.stringify(counts));
  assert.equal(counts.blue! + counts.green!, n);

  assert.equal((await pier.run(["endpoint", "update", "split", "--traffic", "blue=100"])).code, 0);
  const both = await pier.run([
    "endpoint",
    "update",
    "split",
    "--traffic",
    "blue=100",
    "--mirror-traffic",
    "blue=10",
  ]);
  assert.match(both.stderr, /cannot receive live traffic .* and mirror traffic/);
  assert.match(
    (await pier.run(["endpoint", "update", "split", "--mirror-traffic", "green=60"])).stderr,
    /maximum is 50%/,
  );
  assert.equal((await pier.run(["endpoint", "update", "split", "--mirror-traffic", "green=50"])).code, 0);
  for (let i = 0; i < 40; i++) {
    const r = await post(url, { input_data: example.data.slice(0, 1) }, auth);
    assert.equal(
      r.headers.get("azureml-model-deployment"),
      "blue",
      "mirrored results never reach the client",
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  const mirrored = Number(
    /pier_mirrored_requests_total\{endpoint="split",deployment="green",status="200"\} (\d+)/.exec(
      metrics,
    )?.[1] ?? 0,
  );
  assert.ok(mirrored > 5 && mirrored < 35, `mirrored ${mirrored} of 40`);

  const refused = await pier.run(["deployment", "delete", "-e", "split", "-n", "green"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /still receives 50% mirrored traffic/);
  assert.equal((await pier.run(["endpoint", "update", "split", "--mirror-traffic", "green=0"])).code, 0);
  assert.equal((await pier.run(["deployment", "delete", "-e", "split", "-n", "green"])).code, 0);
  assert.match(
    (await pier.run(["deployment", "delete", "-e", "split", "-n", "blue"])).stderr,
    /still receives 100% of live traffic/,
  );
});

test("status codes: 404 without weighted deployments, 429 over capacity, 408 past the timeout, 424 for model errors, 503 with none ready", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "codes");
  const { primaryKey } = await keys(pier, "codes");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/codes/score`;
  const unknown = await post(`${pier.url}/endpoints/nope/score`, splitBody(), auth);
  assert.equal(unknown.status, 404);
  assert.equal(
    (await post(url, splitBody(), auth)).body.error.message,
    "The endpoint doesn't have any valid deployment with positive weight.",
  );

  assert.equal(
    (
      await deploy(
        pier,
        "codes",
        "slow",
        {
          environment_variables: { PIER_CHAOS_DELAY_MS: 400 },
          request_settings: { max_concurrent_requests_per_instance: 1, request_timeout_ms: 3000 },
        },
        ["--all-traffic"],
      )
    ).code,
    0,
  );
  const burst = await Promise.all(
    Array.from({ length: 5 }, () => post(url, { input_data: example.data.slice(0, 1) }, auth)),
  );
  const statuses = burst.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 429, 429, 429], "limit is 2 × 1 × 1 in flight or queued");
  assert.equal(burst.find((r) => r.status === 429)!.body.error.code, "TooManyRequests");

  assert.equal(
    (
      await deploy(pier, "codes", "timeout", {
        environment_variables: { PIER_CHAOS_DELAY_MS: 600 },
        request_settings: { request_timeout_ms: 150 },
      })
    ).code,
    0,
  );
  const timedOut = await post(url, splitBody(), { ...auth, "azureml-model-deployment": "timeout" });
  assert.equal(timedOut.status, 408);

  assert.equal(
    (await deploy(pier, "codes", "broken", { environment_variables: { PIER_CHAOS_MODEL_ERROR: 1 } })).code,
    0,
  );
  const failed = await post(url, splitBody(), { ...auth, "azureml-model-deployment": "broken" });
  assert.equal(failed.status, 424);
  assert.equal(failed.headers.get("ms-azureml-model-error-statuscode"), "500");
  assert.match(failed.body.error.message, /injected model failure/);

  const oom = await deploy(pier, "codes", "tiny", {
    environment_variables: { PIER_CHAOS_ALLOCATE_MB: 400 },
    resources: { limits: { memory: "256Mi" } },
  });
  assert.equal(oom.code, 1, "a deployment that cannot fit its memory limit fails");
  const oomView = JSON.parse(oom.stdout);
  assert.equal(oomView.provisioning_state, "Failed");
  assert.equal(oomView.error.code, "OutOfMemory");
  assert.match(oom.stderr, /✘ failed +OutOfMemory/);
  const noneReady = await post(url, splitBody(), { ...auth, "azureml-model-deployment": "tiny" });
  assert.equal(noneReady.status, 503);
});

test("instances: kill -9 restarts with an event; a frozen instance fails its probes and is restarted; a dying instance is retried elsewhere", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "chaos");
  assert.equal(
    (
      await deploy(
        pier,
        "chaos",
        "blue",
        {
          instance_count: 2,
          environment_variables: { PIER_CHAOS_DELAY_MS: 300 },
          request_settings: { max_concurrent_requests_per_instance: 2 },
          liveness_probe: FAST_LIVENESS,
          readiness_probe: FAST_READINESS,
        },
        ["--all-traffic"],
      )
    ).code,
    0,
  );
  const { primaryKey } = await keys(pier, "chaos");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/chaos/score`;
  const show = async () =>
    JSON.parse((await pier.run(["deployment", "show", "-e", "chaos", "-n", "blue", "-o", "json"])).stdout);
  const waitFor = async (predicate: (view: DeploymentView) => boolean, what: string) => {
    for (let i = 0; i < 100; i++) {
      const view = await show();
      if (predicate(view)) return view;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`timed out waiting for ${what}`);
  };

  // A request in flight on an instance that dies is retried on the other one.
  const first = (await show()).instances[0];
  const inFlight = post(url, { input_data: example.data.slice(0, 1) }, auth);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const busy = (await show()).instances;
  process.kill(busy[0].pid, "SIGKILL");
  const retried = await inFlight;
  assert.equal(retried.status, 200, "retried on the other instance");
  const restarted = await waitFor(
    (v) => v.instances[0]!.restarts >= 1 && v.instances[0]!.state === "Ready",
    "restart after kill -9",
  );
  assert.notEqual(restarted.instances[0].pid, first.pid);
  assert.equal(restarted.instances[0].last_exit, "signal SIGKILL");

  // SIGSTOP freezes the process: probes time out, readiness turns it Unready and liveness restarts it.
  const frozen = (await show()).instances[1];
  process.kill(frozen.pid, "SIGSTOP");
  const recovered = await waitFor(
    (v) => v.instances[1]!.restarts >= 1 && v.instances[1]!.state === "Ready",
    "liveness restart",
  );
  assert.notEqual(recovered.instances[1].pid, frozen.pid);
  await waitFor((v) => v.instances.every((i) => i.state === "Ready"), "both instances Ready again");
  const eventLog = await (
    await fetch(`${pier.url}/api/v1/endpoints/chaos/events?deployment=blue`, {
      headers: {
        authorization: `Bearer ${readFileSync(join(pier.home, "api-token"), "utf8")}`,
      },
    })
  ).json();
  const kinds = new Set((eventLog as { kind: string }[]).map((e) => e.kind));
  for (const kind of ["ProcessExited", "Restarting", "ProbeFailed", "Unready", "LivenessFailed"])
    assert.ok(kinds.has(kind), `event ${kind}`);
  // The doctor names it from those events: the restart by liveness, and no instance left out of traffic.
  const doctor = JSON.parse((await pier.run(["doctor", "chaos", "blue", "-o", "json"])).stdout)[0];
  const codes = doctor.diagnoses.map((d: { code: string }) => d.code);
  assert.ok(codes.includes("LivenessProbeFailed"), JSON.stringify(codes));
  assert.ok(!codes.includes("ReadinessProbeFailed"), "the restarted instance is Ready again");
});

test("bad YAML is refused with the file, the key and the allowed values; nothing is half-created", async (t: TestContext) => {
  const pier = await startPier(t);
  const unknownKey = await pier.run([
    "endpoint",
    "create",
    "-f",
    yamlFile("bad-ep", { name: "fin", auth_mode: "cert", colour: "blue" }),
  ]);
  assert.equal(unknownKey.code, 1);
  assert.match(unknownKey.stderr, /bad-ep\.yml is not a valid online endpoint/);
  assert.match(unknownKey.stderr, /auth_mode: must be one of "key", "aml_token", "aad_token"/);
  assert.match(unknownKey.stderr, /colour: not a known key/);
  writeFileSync(join(work, "broken.yml"), "name: [unclosed\n");
  assert.match(
    (await pier.run(["endpoint", "create", "-f", join(work, "broken.yml")])).stderr,
    /is not valid YAML/,
  );
  await endpoint(pier, "yaml", { identity: { type: "system_assigned" } });
  const range = await deploy(pier, "yaml", "blue", {
    instance_count: 0,
    request_settings: { request_timeout_ms: 999_999 },
  });
  assert.equal(range.code, 1);
  assert.match(range.stdout + range.stderr, /instance_count: Too small/);
  assert.match(range.stdout + range.stderr, /request_settings\.request_timeout_ms: Too big/);
  const vm = await deploy(pier, "yaml", "blue", { instance_type: "Standard_Z9_v9" });
  assert.match(vm.stdout + vm.stderr, /instance_type 'Standard_Z9_v9' is not a VM size pier knows/);
  const list = JSON.parse((await pier.run(["deployment", "list", "-e", "yaml", "-o", "json"])).stdout);
  assert.deepEqual(list, []);
  const warned = await pier.run([
    "endpoint",
    "create",
    "-f",
    yamlFile("warn-ep", { name: "warned", identity: { type: "system_assigned" } }),
  ]);
  assert.match(warned.stderr, /'identity' is accepted but not honoured locally/);
});

test("a model that cannot load ends Failed with the cause and its evidence, never a hang", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "fails");
  const broken = join(work, "broken-model");
  cpSync(join(work, "model"), broken, { recursive: true });
  writeFileSync(join(broken, "model.onnx"), Buffer.from("this is not an onnx protobuf at all"));
  const file = yamlFile("fails-blue", {
    name: "blue",
    endpoint_name: "fails",
    model: "./broken-model",
    instance_type: "Standard_DS2_v2",
    instance_count: 1,
  });
  const result = await pier.run(["deployment", "create", "-f", file]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /fails\/blue +Failed/);
  assert.match(result.stdout, /✘ ModelLoadFailed: .*could not load the model: OnnxLoadFailed/);
  assert.match(result.stdout, /How to fix:/);
  const logs = await pier.run(["deployment", "get-logs", "-e", "fails", "-n", "blue"]);
  assert.match(logs.stdout, /model load failed: OnnxLoadFailed/);
});

test("pier up restores endpoints and deployments after a restart, keeps keys, and neither Ctrl-C nor kill -9 leaves an instance process", async (t) => {
  const first = await startPier(t, { defaultModel: true });
  assert.match(first.output(), /fin-behavior\/blue is Ready/);
  const curl = /curl -s (\S+) -H 'Authorization: Bearer ([^']+)'/.exec(first.output())!;
  const [, url1, key] = curl;
  assert.equal(
    (await post(url1!, splitBody(), { authorization: `Bearer ${key}` })).status,
    200,
    "the printed curl works",
  );
  const pid = JSON.parse(
    (await first.run(["deployment", "show", "-e", "fin-behavior", "-n", "blue", "-o", "json"])).stdout,
  ).instances[0].pid;
  assert.equal(await first.stop(), 0);
  assert.throws(() => process.kill(pid, 0), "the instance process is gone");

  const second = await startPier(t, { home: first.home });
  assert.match(second.output(), /fin-behavior\/blue: Succeeded/);
  const url2 = `${second.url}/endpoints/fin-behavior/score`;
  assert.equal(
    (await post(url2, splitBody(), { authorization: `Bearer ${key}` })).status,
    200,
    "same key after restart",
  );
  const inUse = await cli(["up", "--port", new URL(second.url).port, "--no-default-model"]);
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, /AlreadyRunning|PortInUse/);

  // pier killed outright: its instances notice their channel closing and exit instead of lingering.
  const pid2 = JSON.parse(
    (await second.run(["deployment", "show", "-e", "fin-behavior", "-n", "blue", "-o", "json"])).stdout,
  ).instances[0].pid;
  process.kill(second.pid, "SIGKILL");
  assert.ok(await processGone(pid2, 5000), "no orphaned instance after kill -9 of pier up");
});

test("deployment update swaps instances without dropping the endpoint; repeated crashes show CrashLoop; deleting an endpoint removes its deployments", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "roll");
  assert.equal((await deploy(pier, "roll", "blue", {}, ["--all-traffic"])).code, 0);
  const { primaryKey } = await keys(pier, "roll");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/roll/score`;
  const before = JSON.parse(
    (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue", "-o", "json"])).stdout,
  ) as DeploymentView;

  // Requests keep succeeding while the update replaces the instances.
  let stop = false;
  const statuses: number[] = [];
  const traffic = (async () => {
    while (!stop) statuses.push((await post(url, { input_data: example.data.slice(0, 1) }, auth)).status);
  })();
  const file = yamlFile("roll-blue-v2", {
    name: "blue",
    endpoint_name: "roll",
    model: "./model",
    instance_type: "Standard_DS3_v2",
    instance_count: 2,
  });
  const updated = await pier.run(["deployment", "update", "-f", file, "-o", "json"]);
  stop = true;
  await traffic;
  assert.equal(updated.code, 0, updated.stderr);
  const after = JSON.parse(updated.stdout) as DeploymentView;
  assert.equal(after.instances.length, 2);
  assert.ok(
    after.instances.every((i) => !before.instances.some((b) => b.id === i.id)),
    "new instances",
  );
  assert.ok(
    statuses.length > 0 && statuses.every((s) => s === 200),
    `statuses during update: ${[...new Set(statuses)]}`,
  );
  assert.throws(() => process.kill(before.instances[0]!.pid, 0), "old instance stopped");

  const token = readFileSync(join(pier.home, "api-token"), "utf8");
  for (let crash = 0; crash < 3; crash++) {
    const view = JSON.parse(
      (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue", "-o", "json"])).stdout,
    ) as DeploymentView;
    const target = view.instances[0]!;
    process.kill(target.pid, "SIGKILL");
    for (let i = 0; i < 150; i++) {
      const now = JSON.parse(
        (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue", "-o", "json"])).stdout,
      ) as DeploymentView;
      if (now.instances[0]!.restarts > target.restarts && now.instances[0]!.state === "Ready") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const events = (await (
    await fetch(`${pier.url}/api/v1/endpoints/roll/events?deployment=blue`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { kind: string; message: string }[];
  const loop = events.find((e) => e.kind === "CrashLoop");
  assert.ok(loop, `a CrashLoop event after 3 crashes: ${events.map((e) => e.kind).join(",")}`);
  assert.match(loop.message, /3 crashes within 60 s/);

  assert.equal((await pier.run(["endpoint", "delete", "roll"])).code, 0);
  assert.equal((await post(url, splitBody(), auth)).status, 404);
  assert.match(
    (await pier.run(["deployment", "show", "-e", "roll", "-n", "blue"])).stderr,
    /EndpointNotFound/,
  );
});

test("an instance that dies mid-request with no other instance to retry on gives 502, then the restarted instance serves", async (t) => {
  const pier = await startPier(t);
  await endpoint(pier, "lonely");
  assert.equal(
    (
      await deploy(pier, "lonely", "blue", { environment_variables: { PIER_CHAOS_DELAY_MS: 400 } }, [
        "--all-traffic",
      ])
    ).code,
    0,
  );
  const { primaryKey } = await keys(pier, "lonely");
  const auth = { authorization: `Bearer ${primaryKey}` };
  const url = `${pier.url}/endpoints/lonely/score`;
  const view = JSON.parse(
    (await pier.run(["deployment", "show", "-e", "lonely", "-n", "blue", "-o", "json"])).stdout,
  ) as DeploymentView;
  const pending = post(url, splitBody(), auth);
  await new Promise((resolve) => setTimeout(resolve, 150));
  process.kill(view.instances[0]!.pid, "SIGKILL");
  const result = await pending;
  assert.equal(result.status, 502, JSON.stringify(result.body));
  for (let i = 0; i < 50; i++) {
    const again = await post(url, splitBody(), auth);
    if (again.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail("the restarted instance never served");
});
