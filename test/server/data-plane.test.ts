/**
 * The data plane on real instances, with pier's server in this process: every request format to a
 * real ONNX model, keys and tokens, the traffic split and header pinning, mirroring, and each status
 * code Azure gives (401, 404, 408, 424, 429, 503). The instances are real processes; the fault
 * injection of the ONNX host (PIER_CHAOS_*) makes them slow or failing on purpose.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { type PierServer, post, requestsInFlight, servePier, trainedWorkspace, waitFor } from "../helpers.js";

let pier: PierServer;
let work: string;
let example: { columns: string[]; data: unknown[][] };

before(async () => {
  const workspace = await trainedWorkspace("pier-data-plane-", 600);
  work = workspace.dir;
  example = JSON.parse(readFileSync(join(work, "model/input_example.json"), "utf8"));
  pier = await servePier();
});
after(async () => {
  await pier.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Creates an endpoint (key auth unless told) through the CLI; returns its primary key or a token. */
async function endpoint(name: string, authMode = "key"): Promise<string> {
  const created = await pier.run(["endpoint", "create", "-n", name, "--auth-mode", authMode]);
  assert.equal(created.code, 0, created.stderr);
  const credentials = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", name, "-o", "json"])).stdout,
  );
  return credentials.primaryKey ?? credentials.accessToken;
}

/** Deploys the trained model with `extra` YAML keys; asserts the outcome unless told otherwise. */
async function deploy(
  endpointName: string,
  name: string,
  extra: Record<string, unknown> = {},
  flags: string[] = [],
) {
  const file = join(work, `${endpointName}-${name}.yml`);
  writeFileSync(
    file,
    stringify({
      name,
      endpoint_name: endpointName,
      model: "./model",
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      ...extra,
    }),
  );
  return pier.run(["deployment", "create", "-f", file, ...flags, "-o", "json"]);
}

const splitBody = () => ({
  input_data: { columns: example.columns, index: example.data.map((_, i) => i), data: example.data },
});
const oneRow = () => ({ input_data: example.data.slice(0, 1) });

test("every request format reaches the model and gets the same predictions; schema enforcement gives 400s", async () => {
  const key = await endpoint("formats");
  assert.equal((await deploy("formats", "blue", {}, ["--all-traffic"])).code, 0);
  const auth = { authorization: `Bearer ${key}` };
  const score = `${pier.url}/endpoints/formats/score`;
  const invocations = `${pier.url}/endpoints/formats/invocations`;
  const records = example.data.map((row) => Object.fromEntries(example.columns.map((c, i) => [c, row[i]])));
  const byColumn = Object.fromEntries(example.columns.map((c, i) => [c, example.data.map((r) => r[i])]));
  const plain = await post(score, splitBody(), auth);
  const expected = plain.body;
  assert.equal(expected.length, example.data.length);
  // Stage times only for a client that asks: each stage a Server-Timing entry, in order, then the total.
  assert.equal(plain.headers.get("server-timing"), null);
  const timed = await post(score, splitBody(), { ...auth, "x-pier-timing": "1" });
  assert.deepEqual(timed.body, expected);
  const stages = String(timed.headers.get("server-timing")).split(", ");
  assert.deepEqual(
    stages.map((s) => s.split(";")[0]),
    ["admit", "prepare", "queue", "instance", "format", "total"],
  );
  for (const stage of stages) assert.match(stage, /^[a-z ()]+;dur=\d+\.\d{3}$/);

  for (const body of [
    { input_data: example.data },
    { input_data: records },
    records,
    example.data,
    { data: example.data },
    { input_data: byColumn },
  ]) {
    const result = await post(score, body, auth);
    assert.equal(result.status, 200, JSON.stringify(body).slice(0, 80));
    assert.deepEqual(result.body, expected);
  }
  for (const body of [
    { dataframe_split: { columns: example.columns, data: example.data } },
    { dataframe_records: records },
    { instances: records },
    { inputs: byColumn },
  ]) {
    const result = await post(invocations, body, auth);
    assert.equal(result.status, 200, Object.keys(body)[0]);
    assert.deepEqual(result.body, { predictions: expected });
  }
  const csv = `${example.columns.join(",")}\n${example.data.map((r) => r.join(",")).join("\n")}\n`;
  assert.deepEqual((await post(invocations, csv, { ...auth, "content-type": "text/csv" })).body, {
    predictions: expected,
  });
  const v2 = await post(
    `${pier.url}/endpoints/formats/v2/models/formats-blue/infer`,
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

  const missing = await post(
    score,
    { input_data: records.map(({ Gender, ...rest }) => ({ ...rest, Colour: "red" })) },
    auth,
  );
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error.code, "MissingInputs");
  assert.match(
    missing.body.error.message,
    /^Model is missing inputs \['Gender'\]\. Note that there were extra inputs: \['Colour'\]/,
  );
  // Values are cast by the signature as MLflow casts them: "41" is 41 in a double column, "forty" is refused.
  const cast = await post(score, { input_data: [{ ...records[0], Age: String(records[0]!.Age) }] }, auth);
  assert.deepEqual(cast.body, [expected[0]]);
  const wrongType = await post(score, { input_data: [{ ...records[0], Age: "forty" }] }, auth);
  assert.deepEqual([wrongType.status, wrongType.body.error.code], [400, "InputConversionFailed"]);
  const numberForString = await post(score, { input_data: [{ ...records[0], Gender: 1 }] }, auth);
  assert.deepEqual(
    [numberForString.status, numberForString.body.error.code],
    [400, "IncompatibleInputTypes"],
  );
  assert.equal((await post(score, { input_data: [] }, auth)).body.error.code, "EmptyInput");
  assert.equal(
    (await post(score, { input_data: [{ ...records[0], Extra: 1 }] }, auth)).status,
    200,
    "extra columns are dropped",
  );
  const metadata = await fetch(`${pier.url}/endpoints/formats/v2/models/formats-blue`, { headers: auth });
  assert.equal(metadata.status, 200);
  assert.deepEqual(
    ((await metadata.json()) as { inputs: { name: string }[] }).inputs.map((c) => c.name),
    example.columns,
  );
  const unknown = await fetch(`${pier.url}/endpoints/formats/v2/models/nope`, { headers: auth });
  assert.equal(unknown.status, 404);
  assert.match(((await unknown.json()) as { error: string }).error, /not served by endpoint 'formats'/);
  assert.equal((await fetch(`${pier.url}/endpoints/formats/v2/health/ready`)).status, 200);
  assert.equal((await fetch(score, { headers: auth })).status, 405, "GET on a scoring route");
});

test("keys and tokens: 401 without or with a wrong one; a regenerated key retires only itself; a token is not a key", async () => {
  const key = await endpoint("keyed");
  assert.equal((await deploy("keyed", "blue", {}, ["--all-traffic"])).code, 0);
  const url = `${pier.url}/endpoints/keyed/score`;
  const missing = await post(url, oneRow());
  assert.deepEqual([missing.status, missing.headers.get("www-authenticate")], [401, "Bearer"]);
  const wrong = await post(url, oneRow(), { authorization: "Bearer not-the-key" });
  assert.deepEqual([wrong.status, wrong.body.error.code], [401, "Unauthorized"]);
  const regenerated = JSON.parse(
    (await pier.run(["endpoint", "regenerate-keys", "keyed", "--key-type", "primary", "-o", "json"])).stdout,
  );
  assert.notEqual(regenerated.primaryKey, key);
  assert.equal(
    (await post(url, oneRow(), { authorization: `Bearer ${key}` })).status,
    401,
    "the old primary key",
  );
  assert.equal(
    (await post(url, oneRow(), { authorization: `Bearer ${regenerated.primaryKey}` })).status,
    200,
  );
  assert.equal(
    (await post(url, oneRow(), { authorization: `Bearer ${regenerated.secondaryKey}` })).status,
    200,
  );

  const token = await endpoint("tokened", "aml_token");
  assert.equal((await deploy("tokened", "blue", {}, ["--all-traffic"])).code, 0);
  const tokenUrl = `${pier.url}/endpoints/tokened/score`;
  assert.equal((await post(tokenUrl, oneRow(), { authorization: `Bearer ${token}` })).status, 200);
  assert.equal((await post(tokenUrl, oneRow(), { authorization: `Bearer ${token}x` })).status, 401);
  assert.equal(
    (await post(url, oneRow(), { authorization: `Bearer ${token}` })).status,
    401,
    "a token is not a key",
  );
});

test("traffic: weights split requests, the header pins a deployment even at 0%, a mirror gets copies whose answers nobody sees", async () => {
  const key = await endpoint("split");
  assert.equal((await deploy("split", "blue", {}, ["--all-traffic"])).code, 0);
  assert.equal((await deploy("split", "green")).code, 0);
  const auth = { authorization: `Bearer ${key}` };
  const url = `${pier.url}/endpoints/split/score`;
  const pinned = await post(url, oneRow(), { ...auth, "azureml-model-deployment": "green" });
  assert.equal(pinned.headers.get("azureml-model-deployment"), "green", "pinned to green at 0%");
  const headers = (r: { headers: Headers }) => r.headers.get("azureml-model-deployment")!;
  assert.equal(headers(await post(url, oneRow(), auth)), "blue");

  assert.equal((await pier.run(["endpoint", "update", "split", "--traffic", "blue=50 green=50"])).code, 0);
  const counts: Record<string, number> = { blue: 0, green: 0 };
  for (let i = 0; i < 400; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => post(url, oneRow(), auth)));
    for (const r of batch) counts[headers(r)]! += 1;
  }
  // Binomial(400, 0.5): sd 10, so 140–260 is a six-sigma band.
  assert.ok(counts.blue! > 140 && counts.blue! < 260, JSON.stringify(counts));

  assert.equal(
    (await pier.run(["endpoint", "update", "split", "--traffic", "blue=100", "--mirror-traffic", "green=50"]))
      .code,
    0,
  );
  for (let i = 0; i < 40; i++)
    assert.equal(headers(await post(url, oneRow(), auth)), "blue", "mirrored answers never reach the client");
  const mirrored = () =>
    fetch(`${pier.url}/metrics`)
      .then((r) => r.text())
      .then((text) =>
        Number(
          /pier_mirrored_requests_total\{endpoint="split",deployment="green",status="200"\} (\d+)/.exec(
            text,
          )?.[1] ?? 0,
        ),
      );
  // Binomial(40, 0.5): 5–35 holds with overwhelming probability; wait until the copies have been answered.
  const copies = await waitFor(async () => {
    const n = await mirrored();
    return n > 5 && n < 35 ? n : undefined;
  }, "mirrored copies to be answered");
  assert.ok(copies > 5);
});

test("status codes as Azure gives them: 404, 429 past admission, 408 past the timeout, 424 for model errors, 503 with none ready", async () => {
  const key = await endpoint("codes");
  const auth = { authorization: `Bearer ${key}` };
  const url = `${pier.url}/endpoints/codes/score`;
  assert.equal((await post(`${pier.url}/endpoints/nope/score`, oneRow(), auth)).status, 404);
  const none = await post(url, oneRow(), auth);
  assert.deepEqual(
    [none.status, none.body.error.message],
    [404, "The endpoint doesn't have any valid deployment with positive weight."],
  );

  const slow = await deploy(
    "codes",
    "slow",
    {
      environment_variables: { PIER_CHAOS_DELAY_MS: 400 },
      request_settings: { max_concurrent_requests_per_instance: 1, request_timeout_ms: 3000 },
    },
    ["--all-traffic"],
  );
  assert.equal(slow.code, 0, slow.stderr);
  const burst = await Promise.all(Array.from({ length: 5 }, () => post(url, oneRow(), auth)));
  assert.deepEqual(
    burst.map((r) => r.status).sort(),
    [200, 200, 429, 429, 429],
    "2 × 1 × 1 in flight or queued",
  );
  const refused = burst.find((r) => r.status === 429)!;
  assert.deepEqual([refused.body.error.code, refused.headers.get("retry-after")], ["TooManyRequests", "1"]);

  assert.equal(
    (
      await deploy("codes", "timeout", {
        environment_variables: { PIER_CHAOS_DELAY_MS: 600 },
        request_settings: { request_timeout_ms: 150 },
      })
    ).code,
    0,
  );
  const timedOut = await post(url, oneRow(), { ...auth, "azureml-model-deployment": "timeout" });
  assert.deepEqual([timedOut.status, timedOut.body.error.code], [408, "RequestTimeout"]);

  assert.equal(
    (await deploy("codes", "broken", { environment_variables: { PIER_CHAOS_MODEL_ERROR: 1 } })).code,
    0,
  );
  const failed = await post(url, oneRow(), { ...auth, "azureml-model-deployment": "broken" });
  assert.equal(failed.status, 424);
  assert.equal(failed.headers.get("ms-azureml-model-error-statuscode"), "500");
  assert.match(failed.body.error.message, /injected model failure/);

  const oom = await deploy("codes", "tiny", {
    environment_variables: { PIER_CHAOS_ALLOCATE_MB: 400 },
    resources: { limits: { memory: "256Mi" } },
  });
  assert.equal(oom.code, 1, "a deployment that cannot fit its memory limit fails");
  assert.equal(JSON.parse(oom.stdout).error.code, "OutOfMemory");
  const noneReady = await post(url, oneRow(), { ...auth, "azureml-model-deployment": "tiny" });
  assert.deepEqual([noneReady.status, noneReady.body.error.code], [503, "DeploymentNotReady"]);

  const metrics = await (await fetch(`${pier.url}/metrics`)).text();
  assert.match(metrics, /pier_requests_total\{endpoint="codes",deployment="slow",status="429"\} 3/);
  // What the gateway counted is what the doctor reads.
  const doctor = JSON.parse((await pier.run(["doctor", "codes", "slow", "-o", "json"])).stdout)[0];
  assert.ok(
    doctor.diagnoses.some((d: { code: string }) => d.code === "TooManyRequests"),
    JSON.stringify(doctor.diagnoses),
  );
});

test("an instance that dies mid-request with no other instance to retry on gives 502; the restarted instance serves again", async () => {
  const key = await endpoint("lonely");
  const created = await deploy("lonely", "blue", { environment_variables: { PIER_CHAOS_DELAY_MS: 400 } }, [
    "--all-traffic",
  ]);
  assert.equal(created.code, 0, created.stderr);
  const auth = { authorization: `Bearer ${key}` };
  const url = `${pier.url}/endpoints/lonely/score`;
  const pid = JSON.parse(created.stdout).instances[0].pid as number;
  const pending = post(url, oneRow(), auth);
  await waitFor(
    () => requestsInFlight(pier, "lonely", "blue").then((n) => n >= 1),
    "the request to be in flight",
  );
  process.kill(pid, "SIGKILL");
  const result = await pending;
  assert.deepEqual([result.status, result.body.error.code], [502, "BadGateway"], JSON.stringify(result.body));
  await waitFor(
    async () => (await post(url, oneRow(), auth)).status === 200,
    "the restarted instance to serve",
  );
});
