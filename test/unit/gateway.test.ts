/**
 * The gateway's pieces, called in-process: admission, the traffic and mirror draws, routing, every
 * request format, authentication, and how an instance's answer becomes the client's status.
 * Azure's rules these follow: reference/azureml-online-endpoints.md (admission 2 × max_concurrent ×
 * instances, 408/424/429/503, the azureml-model-deployment header); MLflow's scoring server for
 * /invocations; the Open Inference Protocol for v2.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Admission,
  type DeploymentTarget,
  type EndpointRoute,
  type Routing,
  TokenSigner,
} from "../../src/engine/index.js";
import {
  authenticate,
  drawByWeight,
  drawMirrors,
  formatResponse,
  HttpError,
  instanceError,
  matchGatewayPath,
  OFFLOAD_BYTES,
  PreparePool,
  parseRequest,
  route,
} from "../../src/gateway/index.js";
import type { ColumnSpec, ModelInterface } from "../../src/model/index.js";
import { createRandom, PierError } from "../../src/shared/index.js";
import { tempDir } from "../helpers.js";

/** What admission counts per instance: whether it takes requests, and how many it holds. */
const slot = (routable = true) => ({ routable, inFlight: 0 });

test("admission: max_concurrent per Ready instance, a FIFO queue behind, 429 past 2 × max × instances, 408 past the deadline", async () => {
  const slots = [slot(), slot()];
  const admission = new Admission(() => slots, 1, 2);
  assert.equal(admission.limit, 4, "2 × max_concurrent_requests_per_instance 1 × instance_count 2");
  const first = await admission.acquire(1000);
  const second = await admission.acquire(1000);
  assert.ok(first.ok && second.ok);
  assert.notEqual(first.instance, second.instance, "round robin over free instances");
  const queued = [admission.acquire(1000), admission.acquire(1000)];
  assert.equal(admission.queued, 2);
  assert.deepEqual(await admission.acquire(1000), { ok: false, reason: "overloaded" });
  first.release();
  const third = await queued[0]!;
  assert.ok(third.ok && third.instance === first.instance, "the first in the queue gets the freed slot");
  second.release();
  assert.ok((await queued[1]!).ok);

  const waiting = admission.acquire(20);
  assert.deepEqual(await waiting, { ok: false, reason: "timeout" }, "a request that waits past its deadline");
  assert.equal(admission.queued, 0, "a timed-out request leaves the queue");

  const none = new Admission(() => [slot(false)], 4, 1);
  assert.deepEqual(await none.acquire(1000), { ok: false, reason: "no-instance" });
  const one = [slot()];
  const retry = new Admission(() => one, 4, 1);
  assert.deepEqual(
    await retry.acquire(1000, one[0]),
    { ok: false, reason: "no-instance" },
    "a retry avoids the instance that failed",
  );
});

test("admission wakes queued requests when an instance becomes Ready", async () => {
  const instance = { routable: false, inFlight: 0 };
  const admission = new Admission(() => [instance], 1, 1);
  // An instance that is not yet routable: nothing can be queued behind it.
  assert.deepEqual(await admission.acquire(100), { ok: false, reason: "no-instance" });
  instance.routable = true;
  const busy = await admission.acquire(100);
  assert.ok(busy.ok);
  const waiting = admission.acquire(1000);
  instance.routable = false;
  busy.release();
  assert.equal(admission.queued, 1, "no Ready instance: the request stays queued");
  instance.routable = true;
  admission.poke();
  assert.ok((await waiting).ok);
});

test("traffic: a draw falls in each deployment's share of the weights; mirrors each get their own chance", () => {
  const traffic = { blue: 90, green: 10, grey: 0 };
  const at = (x: number) => drawByWeight(traffic, () => x);
  assert.deepEqual([at(0), at(0.899), at(0.9), at(0.999)], ["blue", "blue", "green", "green"]);
  assert.equal(drawByWeight({ blue: 0 }), undefined, "no positive weight, no deployment");
  const random = createRandom(7);
  const counts = { blue: 0, green: 0 };
  for (let i = 0; i < 10_000; i++)
    counts[drawByWeight({ blue: 70, green: 30 }, () => random.next()) as "blue"]++;
  // Binomial(10000, 0.3): sd ≈ 46, so ±250 is more than five sigma.
  assert.ok(Math.abs(counts.green - 3000) < 250, JSON.stringify(counts));
  assert.deepEqual(
    drawMirrors({ green: 10 }, () => 0.05),
    ["green"],
  );
  assert.deepEqual(
    drawMirrors({ green: 10 }, () => 0.1),
    [],
  );
  assert.deepEqual(
    drawMirrors({ green: 0 }, () => 0),
    [],
  );
});

/** A routing table as the engine would answer it: endpoint `fin` with blue live and green at 0%. */
function routingTable(live: string[]): Routing {
  const target = (name: string) =>
    ({
      endpoint: "fin",
      name,
      modelName: name === "green" ? "m2" : "m",
      modelVersion: name === "green" ? 2 : 1,
    }) as unknown as DeploymentTarget;
  return {
    endpoint: () => undefined,
    target: (_endpoint, name) => (live.includes(name) ? target(name) : undefined),
    deploymentExists: (_endpoint, name) => ["blue", "green", "stopped"].includes(name),
    verifyToken: () => "malformed",
    targets: () => live.map(target),
    restoring: () => undefined,
  };
}

const fin: EndpointRoute = {
  name: "fin",
  authMode: "key",
  keys: ["primary-key", "secondary-key"],
  traffic: { blue: 100 },
  mirrorTraffic: {},
};

test("route: the header pins a deployment even at 0%; unknown ones are 404, ones without instances 503", () => {
  const routing = routingTable(["blue", "green"]);
  assert.equal(route(routing, fin, undefined).target.name, "blue");
  const pinned = route(routing, fin, "green");
  assert.deepEqual([pinned.target.name, pinned.pinned], ["green", true]);
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return [(error as HttpError).status, (error as HttpError).code];
    }
    return undefined;
  };
  assert.deepEqual(
    codeOf(() => route(routing, fin, "purple")),
    [404, "DeploymentNotFound"],
  );
  assert.deepEqual(
    codeOf(() => route(routing, fin, "stopped")),
    [503, "DeploymentNotReady"],
  );
  assert.deepEqual(
    codeOf(() => route(routing, { ...fin, traffic: {} }, undefined)),
    [404, "NoValidDeployment"],
  );
  assert.deepEqual(
    codeOf(() => route(routingTable([]), fin, undefined)),
    [503, "DeploymentNotReady"],
  );
  // A v2 path names a model: only deployments of that model (and version) are drawn.
  const split = { ...fin, traffic: { blue: 50, green: 50 } };
  const serves = (model: string, version?: number) => (t: DeploymentTarget) =>
    t.modelName === model && (version === undefined || t.modelVersion === version);
  for (const point of [0, 0.3, 0.7, 0.99]) {
    assert.equal(route(routing, split, undefined, () => point, serves("m2")).target.name, "green");
    assert.equal(route(routing, split, undefined, () => point, serves("m", 1)).target.name, "blue");
  }
  assert.deepEqual(
    codeOf(() => route(routing, split, undefined, Math.random, serves("m", 7))),
    [404, "ModelNotServed"],
  );
  assert.deepEqual(
    codeOf(() => route(routing, split, "blue", Math.random, serves("m2"))),
    [404, "ModelNotServed"],
  );
});

test("route: a rollout's new deployment without instances (it failed its restore) has its share served by the stable", () => {
  const routing = routingTable(["blue"]); // green, the canary, did not come back
  const canary = { ...fin, traffic: { blue: 90, green: 10 } };
  const instead = (drawn: string) => (drawn === "green" ? "blue" : undefined);
  for (const point of [0, 0.5, 0.95, 0.999])
    assert.equal(route(routing, canary, undefined, () => point, undefined, instead).target.name, "blue");
  // Without an open rollout it is the 503 Azure gives; a pinned request still names its deployment.
  assert.throws(
    () => route(routing, canary, undefined, () => 0.95),
    /Deployment 'green' has no running instances/,
  );
  assert.throws(
    () => route(routing, canary, "green", () => 0, undefined, instead),
    /has no running instances/,
  );
});

test("authenticate: either key in constant time, a missing header asks for Bearer, an aml_token is checked and expires", (t) => {
  const routing = routingTable([]);
  const status = (header: string | undefined, endpoint = fin, verify = routing.verifyToken) => {
    try {
      authenticate(header, endpoint, verify);
      return 200;
    } catch (error) {
      return (error as HttpError).status;
    }
  };
  assert.equal(status("Bearer primary-key"), 200);
  assert.equal(status("bearer secondary-key"), 200);
  assert.equal(status("Bearer wrong"), 401);
  assert.equal(status(undefined), 401);
  try {
    authenticate(undefined, fin, routing.verifyToken);
  } catch (error) {
    assert.equal((error as HttpError).headers["www-authenticate"], "Bearer");
  }
  const signer = new TokenSigner(tempDir(t));
  const tokens = { ...fin, authMode: "aml_token" as const };
  const verify = (token: string, endpoint: string) => signer.verify(token, endpoint);
  const fresh = signer.issue("fin").accessToken;
  assert.equal(status(`Bearer ${fresh}`, tokens, verify), 200);
  assert.equal(status(`Bearer ${fresh}x`, tokens, verify), 401);
  assert.equal(
    status(`Bearer ${signer.issue("other").accessToken}`, tokens, verify),
    401,
    "another endpoint's token",
  );
  assert.equal(
    status(`Bearer ${signer.issue("fin", Date.now() - 2 * 3600_000).accessToken}`, tokens, verify),
    401,
  );
  assert.equal(status("Bearer primary-key", tokens, verify), 401, "a key is not a token");
});

const columns: ColumnSpec[] = [
  { name: "Age", type: "double" },
  { name: "Gender", type: "string" },
];
const records = [
  { Age: 30, Gender: "Female" },
  { Age: 41, Gender: "Male" },
];
const body = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));

const columnModel: ModelInterface = { inputs: { kind: "columns", columns }, outputs: null };
const anyModel: ModelInterface = { inputs: { kind: "any" }, outputs: null };

test("request formats: Azure /score, MLflow /invocations, CSV and v2 all become the same records", () => {
  const parsed = (protocol: "score" | "invocations" | "v2", value: unknown, type?: string) =>
    parseRequest(protocol, type, body(value), columnModel, null).request;
  const rows = [
    [30, "Female"],
    [41, "Male"],
  ];
  const byColumn = { Age: [30, 41], Gender: ["Female", "Male"] };
  for (const value of [
    { input_data: { columns: ["Age", "Gender"], index: [0, 1], data: rows } },
    { input_data: records },
    { input_data: rows },
    { input_data: byColumn },
    records,
    rows,
    { data: rows },
  ])
    assert.deepEqual(
      parsed("score", value),
      { records, view: "records" },
      JSON.stringify(value).slice(0, 60),
    );
  for (const value of [
    { dataframe_split: { columns: ["Age", "Gender"], data: rows } },
    { dataframe_records: records },
    { instances: records },
    { inputs: byColumn },
  ])
    assert.deepEqual(parsed("invocations", value), { records, view: "records" }, Object.keys(value)[0]);
  assert.deepEqual(parsed("invocations", "Age,Gender\n30,Female\n41,Male\n", "text/csv"), {
    records,
    view: "records",
  });
  assert.deepEqual(
    parsed("v2", {
      inputs: [
        { name: "Age", shape: [2], datatype: "FP64", data: [30, 41] },
        { name: "Gender", shape: [2, 1], datatype: "BYTES", data: [["Female"], ["Male"]] },
      ],
    }),
    { records, view: "v2" },
  );
  assert.deepEqual(
    parseRequest("score", undefined, body({ input_data: rows }), anyModel, null).request,
    { rows, view: "records" },
    "positional rows stay rows for a model without a column signature",
  );
});

test("requests that do not fit get a 4xx with a stable code, never a 5xx", () => {
  const refused = (protocol: "score" | "invocations" | "v2", value: unknown, type?: string) => {
    try {
      parseRequest(protocol, type, body(value), columnModel, null);
    } catch (error) {
      // Formats throw HttpErrors, the shared enforcer PierErrors: both carry a code from the one table.
      if (error instanceof HttpError) return [error.status, error.code];
      if (error instanceof PierError) return [error.httpStatus, error.code];
      throw error;
    }
    return undefined;
  };
  assert.deepEqual(refused("score", "{not json"), [400, "InvalidJson"]);
  assert.deepEqual(refused("score", { rows: [] }), [400, "MissingInputData"]);
  assert.deepEqual(refused("score", { input_data: [[1]] }), [400, "BadShape"]);
  assert.deepEqual(refused("score", "x", "text/plain"), [415, "UnsupportedMediaType"]);
  assert.deepEqual(refused("invocations", { columns: ["Age"], data: [[1]] }), [400, "BadRequest"]);
  assert.deepEqual(refused("invocations", { instances: records, inputs: records }), [400, "BadRequest"]);
  assert.deepEqual(refused("invocations", 'Age\n"unclosed\n', "text/csv"), [400, "BadRequest"]);
  assert.deepEqual(
    refused("v2", { inputs: [{ name: "Age", shape: [1, 3], datatype: "FP64", data: [1, 2, 3] }] }),
    [400, "BadShape"],
  );
  assert.deepEqual(refused("score", { input_data: [1, { Age: 1 }] }), [400, "BadRequest"]);
});

test("a large body is prepared on a worker thread: the same text for the instance as in place, the same refusal", async (t) => {
  const pool = new PreparePool(1);
  t.after(() => pool.close());
  const rows = Array.from({ length: 20_000 }, (_, i) => [i % 90, i % 2 ? "Male" : "Female"]);
  const large = body({
    input_data: { columns: ["Age", "Gender"], index: rows.map((_, i) => i), data: rows },
  });
  assert.ok(large.byteLength >= OFFLOAD_BYTES, "large enough to go to the worker");
  const job = {
    protocol: "score" as const,
    contentType: undefined,
    iface: columnModel,
    paramNames: null,
    predictMethod: "predict_proba",
  };
  const onWorker = await pool.prepare({ ...job, body: large });
  const inPlace = parseRequest("score", undefined, large, columnModel, null).request;
  assert.equal(onWorker.rows, 20_000);
  assert.deepEqual(JSON.parse(onWorker.text), { ...inPlace, predict_method: "predict_proba" });
  // A bad row deep in a large body: the same 400 with its code and message as in place.
  rows[19_999] = [1];
  const bad = body({ input_data: { columns: ["Age", "Gender"], index: rows.map((_, i) => i), data: rows } });
  await assert.rejects(pool.prepare({ ...job, body: bad }), (error: unknown) => {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 400);
    assert.equal(error.code, "BadShape");
    assert.match(error.message, /row 19999/);
    return true;
  });
  // Small ones never leave the thread, and give the same answer.
  const small = await pool.prepare({ ...job, body: body({ input_data: records }), predictMethod: undefined });
  assert.deepEqual(JSON.parse(small.text), { records, view: "records" });
});

test("responses: /score passes the instance's answer through, /invocations wraps it, v2 makes one tensor per output of a model's own values", () => {
  const predictions = JSON.stringify([
    { label: 1, probabilities: [0.2, 0.8] },
    { label: 0, probabilities: [0.9, 0.1] },
  ]);
  const v2 = { modelName: "m", modelVersion: "3" };
  assert.equal(formatResponse("score", predictions, "values", v2), predictions);
  assert.deepEqual(JSON.parse(formatResponse("invocations", predictions, "values", v2)), {
    predictions: JSON.parse(predictions),
  });
  assert.deepEqual(JSON.parse(formatResponse("v2", predictions, "values", { ...v2, id: "r1" })), {
    model_name: "m",
    model_version: "3",
    id: "r1",
    outputs: [
      { name: "label", shape: [2], datatype: "INT64", data: [1, 0] },
      { name: "probabilities", shape: [2, 2], datatype: "FP64", data: [0.2, 0.8, 0.9, 0.1] },
    ],
  });
  const tensors = JSON.stringify([{ name: "y", datatype: "FP32", shape: [1, 1], data: [0.5] }]);
  assert.deepEqual(JSON.parse(formatResponse("v2", tensors, "view", v2)).outputs, JSON.parse(tensors));
});

test("an instance's answer: input it refused is a 400 with its code, anything else a 424 naming the model's status", () => {
  const refused = instanceError(
    400,
    JSON.stringify({ error: { code: "MissingInputs", message: "Model is missing inputs", kind: "input" } }),
  );
  assert.deepEqual([refused.status, refused.code], [400, "MissingInputs"]);
  const unknownCode = instanceError(
    400,
    JSON.stringify({ error: { code: "Weird", message: "x", kind: "input" } }),
  );
  assert.deepEqual([unknownCode.status, unknownCode.code], [400, "BadRequest"]);
  const failed = instanceError(
    500,
    JSON.stringify({ error: { code: "ValueError", message: "bad things", kind: "model" } }),
  );
  assert.deepEqual([failed.status, failed.code], [424, "ModelError"]);
  assert.equal(failed.headers["ms-azureml-model-error-statuscode"], "500");
  assert.equal(failed.headers["ms-azureml-model-error-reason"], "ValueError");
  assert.match(failed.message, /bad things/);
  assert.deepEqual(failed.extra.failure, { code: "ModelError", exception: "ValueError" });
  // What the hosts send now: the table's code, the exception beside it, and for an answer JSON cannot hold, its type.
  const unencodable = instanceError(
    500,
    JSON.stringify({
      error: {
        code: "UnserializableOutput",
        message: "x",
        kind: "model",
        type: "numpy.ndarray",
        hint: "call .tolist() on it",
      },
    }),
  );
  assert.deepEqual(unencodable.extra.failure, {
    code: "UnserializableOutput",
    type: "numpy.ndarray",
    hint: "call .tolist() on it",
  });
  assert.equal(unencodable.headers["ms-azureml-model-error-reason"], "UnserializableOutput");
  assert.equal(instanceError(502, "not json").status, 424);
});

test("paths: each protocol owns its routes (score, invocations, v2 infer, health and metadata); nothing else is the gateway's", () => {
  /** What a path asks for, in plain data: the protocol, the route's access and the model it names. */
  const asked = (path: string) => {
    const match = matchGatewayPath(path);
    if (!match) return undefined;
    const { route } = match;
    return {
      endpoint: match.endpoint,
      protocol: match.protocol,
      access: route.access,
      ...("model" in route && route.model !== undefined ? { model: route.model } : {}),
      ...("version" in route && route.version !== undefined ? { version: route.version } : {}),
    };
  };
  const fin = { endpoint: "fin" };
  assert.deepEqual(asked("/endpoints/fin/score"), { ...fin, protocol: "score", access: "infer" });
  assert.deepEqual(asked("/endpoints/fin/swagger.json"), { ...fin, protocol: "score", access: "read" });
  assert.deepEqual(asked("/endpoints/fin/invocations"), { ...fin, protocol: "invocations", access: "infer" });
  assert.deepEqual(asked("/endpoints/fin/ping"), { ...fin, protocol: "invocations", access: "open" });
  assert.deepEqual(asked("/endpoints/fin/health"), { ...fin, protocol: "invocations", access: "open" });
  assert.deepEqual(asked("/endpoints/fin/version"), { ...fin, protocol: "invocations", access: "open" });
  assert.deepEqual(asked("/endpoints/fin/v2/models/m/infer"), {
    ...fin,
    protocol: "v2",
    access: "infer",
    model: "m",
  });
  assert.deepEqual(asked("/endpoints/fin/v2/health/ready"), { ...fin, protocol: "v2", access: "open" });
  assert.deepEqual(asked("/endpoints/fin/v2/models/m"), {
    ...fin,
    protocol: "v2",
    access: "read",
    model: "m",
  });
  assert.deepEqual(asked("/endpoints/fin/v2/models/m/versions/2/infer"), {
    ...fin,
    protocol: "v2",
    access: "infer",
    model: "m",
    version: "2",
  });
  assert.deepEqual(asked("/endpoints/fin/v2/models/m/ready"), {
    ...fin,
    protocol: "v2",
    access: "read",
    model: "m",
  });
  assert.deepEqual(asked("/endpoints/fin/v2"), { ...fin, protocol: "v2", access: "open" });
  assert.deepEqual(asked("/endpoints/a%20b/score"), {
    endpoint: "a%20b",
    protocol: "score",
    access: "infer",
  });
  assert.equal(asked("/endpoints/fin/score/../../api"), undefined);
  assert.equal(asked("/endpoints/fin/v2/models"), undefined);
  assert.equal(asked("/api/v1/endpoints"), undefined);
  assert.throws(() => asked("/endpoints/fin/v2/models/%ZZ/infer"), { code: "BadRequest" });
});
