/**
 * The data plane's steps one by one, in-process and without instances: the ids every answer carries,
 * the open and read routes each protocol owns, authenticate and route as a request meets them (each
 * protocol's error body), capture, the rollout tap (a failing canary answered by the stable, answers
 * compared), the shadow comparison, and the count. Routing is a table of plain data, as the engine
 * would answer it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { localRequest } from "../../src/app/index.js";
import {
  Admission,
  type DeploymentTarget,
  type EndpointRoute,
  type RoutedInstance,
  type Routing,
} from "../../src/engine/index.js";
import {
  type Answer,
  type CapturedExchange,
  captureStep,
  createGateway,
  createMetrics,
  HttpError,
  type Observed,
  RequestStats,
  type RolloutTap,
  requestIds,
  serveInRollout,
  shadowCompare,
} from "../../src/gateway/index.js";
import type { ModelInterface } from "../../src/model/index.js";

const iface: ModelInterface = {
  inputs: { kind: "columns", columns: [{ name: "Age", type: "double" }] },
  outputs: [{ kind: "tensor", name: "label", dtype: "int64", shape: [-1] }],
};

/** A deployment with no instance running (admission finds none: 503). */
function target(name: string, model = "m", version = 1): DeploymentTarget {
  return {
    endpoint: "fin",
    name,
    modelName: model,
    modelVersion: version,
    interface: iface,
    paramNames: null,
    mlflowVersion: "2.9.2",
    rawRequests: false,
    answers: "view",
    requestTimeoutMs: 5000,
    dataCollector: undefined,
    admission: new Admission<RoutedInstance>(() => [], 1, 1),
    instances: [],
  };
}

const fin: EndpointRoute = {
  name: "fin",
  authMode: "key",
  keys: ["primary-key", "secondary-key"],
  traffic: { blue: 100 },
  mirrorTraffic: {},
};

function routing(): Routing {
  const blue = target("blue");
  return {
    endpoint: (name) => (name === "fin" ? fin : undefined),
    target: (_e, name) => (name === "blue" ? blue : undefined),
    deploymentExists: (_e, name) => name === "blue",
    verifyToken: () => "malformed",
    targets: () => [blue],
    restoring: () => undefined,
  };
}

function gateway(t: { after(fn: () => unknown): void }) {
  const table = routing();
  const g = createGateway({ routing: table, metrics: createMetrics(table), stats: new RequestStats() });
  t.after(() => g.close());
  return g;
}

const key = { authorization: "Bearer primary-key" };

/** Sends one request to the gateway, socket-free; the status, headers and body text. */
async function send(
  g: ReturnType<typeof gateway>,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body = "",
) {
  const answer = await g.handle(localRequest(method, url, headers, body));
  assert.ok(answer, `${url} is the gateway's`);
  return { status: answer.status, headers: answer.headers, text: String(answer.body ?? "") };
}

test("ids: a client's GUID x-request-id is kept, anything else replaced; its own id is cleaned and kept", () => {
  const guid = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
  assert.equal(requestIds({ "x-request-id": guid })["x-request-id"], guid);
  assert.notEqual(requestIds({ "x-request-id": "not-a-guid" })["x-request-id"], "not-a-guid");
  assert.deepEqual(
    requestIds({ "x-ms-client-request-id": "abc<script>" })["x-ms-client-request-id"],
    "abcscript",
  );
});

test("open routes answer without a key as soon as the endpoint exists; each protocol words its 404", async (t) => {
  const g = gateway(t);
  assert.deepEqual([(await send(g, "GET", "/endpoints/fin/ping")).status], [200]);
  const version = await send(g, "GET", "/endpoints/fin/version");
  assert.deepEqual(
    [version.status, version.text, version.headers["content-type"]],
    [200, "2.9.2", "text/plain"],
  );
  const server = JSON.parse((await send(g, "GET", "/endpoints/fin/v2")).text);
  assert.equal(server.name, "pier");
  assert.equal((await send(g, "POST", "/endpoints/fin/v2/health/live")).status, 405);
  // The same missing endpoint, as each protocol's clients read it.
  const azure = await send(g, "POST", "/endpoints/nope/score", key, "{}");
  assert.deepEqual([azure.status, JSON.parse(azure.text).error.code], [404, "EndpointNotFound"]);
  const mlflow = await send(g, "GET", "/endpoints/nope/ping");
  assert.deepEqual([mlflow.status, JSON.parse(mlflow.text).error_code], [404, "ENDPOINT_NOT_FOUND"]);
  const v2 = await send(g, "GET", "/endpoints/nope/v2/models/m");
  assert.match(JSON.parse(v2.text).error, /'nope' does not exist/);
  assert.equal(v2.headers["x-pier-error-code"], "EndpointNotFound");
  // A bad escape in a model name is the protocol's 400, never a 500.
  const badEscape = await send(g, "GET", "/endpoints/fin/v2/models/%ZZ");
  assert.deepEqual([badEscape.status, badEscape.headers["x-pier-error-code"]], [400, "BadRequest"]);
  assert.equal(g.handle(localRequest("GET", "/api/v1/endpoints")), undefined, "not the gateway's");
});

test("authenticate, then route: 401 before anything is read, the model's metadata for v2, 503 with no instance", async (t) => {
  const g = gateway(t);
  const unauthorized = await send(g, "POST", "/endpoints/fin/score", {}, "{}");
  assert.deepEqual([unauthorized.status, unauthorized.headers["www-authenticate"]], [401, "Bearer"]);
  const metadata = await send(g, "GET", "/endpoints/fin/v2/models/m", key);
  assert.equal(metadata.status, 200);
  assert.deepEqual(JSON.parse(metadata.text), {
    name: "m",
    versions: ["1"],
    platform: "onnxruntime_onnx",
    inputs: [{ name: "Age", datatype: "FP64", shape: [-1] }],
    outputs: [{ name: "label", datatype: "INT64", shape: [-1] }],
  });
  assert.equal(metadata.headers["azureml-model-deployment"], "blue");
  const otherModel = await send(g, "GET", "/endpoints/fin/v2/models/other", key);
  assert.deepEqual([otherModel.status, otherModel.headers["x-pier-error-code"]], [404, "ModelNotServed"]);
  const none = await send(
    g,
    "POST",
    "/endpoints/fin/score",
    key,
    JSON.stringify({ input_data: [{ Age: 3 }] }),
  );
  assert.deepEqual([none.status, JSON.parse(none.text).error.code], [503, "NoReadyInstance"]);
  const pinned = await send(
    g,
    "POST",
    "/endpoints/fin/score",
    { ...key, "azureml-model-deployment": "green" },
    "{}",
  );
  assert.deepEqual([pinned.status, JSON.parse(pinned.text).error.code], [404, "DeploymentNotFound"]);
  // The input is the client's mistake before it is anyone's: a 400 in MLflow's words, not a 503.
  const bad = await send(g, "POST", "/endpoints/fin/invocations", key, JSON.stringify({ nothing: 1 }));
  assert.deepEqual([bad.status, JSON.parse(bad.text).error_code], [400, "BAD_REQUEST"]);
  const swagger = await send(g, "GET", "/endpoints/fin/swagger.json?version=9", key);
  assert.equal(swagger.status, 404);
});

test("capture: nothing is kept unless the collector samples the request; what is kept names the instance that answered", () => {
  const records: CapturedExchange[] = [];
  const collector = (draw: number | undefined) => ({
    sample: () => draw,
    wantsInputs: true,
    record: (exchange: CapturedExchange) => records.push(exchange),
  });
  const req = localRequest("POST", "/endpoints/fin/score", { "content-type": "application/json" }, "{}");
  const scoring = {
    req,
    body: Buffer.from("{}"),
    ids: { "x-request-id": "r-1", "x-ms-client-request-id": "c-1" },
  };
  const served = { instance: "" };
  assert.equal(captureStep(collector(undefined), scoring, served), undefined, "not sampled");
  assert.equal(captureStep(undefined, scoring, served), undefined, "no collector");
  const keep = captureStep(collector(0.25), scoring, served)!;
  served.instance = "blue-1";
  keep({ status: 200, body: "[1]", headers: {}, text: "[1]" }, { inputs: '[{"Age":3}]', outputs: "[1]" });
  assert.equal(records.length, 1);
  assert.deepEqual(
    {
      draw: records[0]!.draw,
      correlationId: records[0]!.correlationId,
      clientRequestId: records[0]!.clientRequestId,
      instance: records[0]!.instance,
      inputs: records[0]!.inputs,
      status: records[0]!.status,
    },
    {
      draw: 0.25,
      correlationId: "r-1",
      clientRequestId: "c-1",
      instance: "blue-1",
      inputs: '[{"Age":3}]',
      status: 200,
    },
  );
});

/** A rollout tap that writes down what it is told. */
function recordingTap(compareShare = 1) {
  const observed: { deployment: string; outcome: Observed }[] = [];
  const compared: [string, string][] = [];
  const tap: RolloutTap = {
    stable: "blue",
    candidate: "green",
    compareShare,
    observe: (deployment, outcome) => observed.push({ deployment, outcome }),
    compare: (a, b) => compared.push([a, b]),
  };
  return { tap, observed, compared };
}

const ok = (text: string): Answer => ({ status: 200, body: text, headers: {}, text });

test("rollout tap: the canary's failure is answered by the stable and counted against the canary; a refusal both give counts against neither", async () => {
  const blue = target("blue");
  const green = target("green");
  {
    const { tap, observed } = recordingTap();
    const served = await serveInRollout(
      tap,
      green,
      blue,
      async (t) => {
        if (t === green) throw new HttpError("ModelError", "boom");
        return ok("[0]");
      },
      () => 0.5,
    );
    assert.equal(served.target, blue, "the stable answered");
    assert.deepEqual(served.failed, { status: 424, code: "ModelError", message: "boom" });
    assert.deepEqual(
      observed.map((o) => [o.deployment, o.outcome.ok ? "ok" : o.outcome.kind]),
      [
        ["green", "424"],
        ["blue", "ok"],
      ],
    );
  }
  {
    const { tap, observed } = recordingTap();
    await assert.rejects(
      serveInRollout(
        tap,
        green,
        blue,
        async () => {
          throw new HttpError("BadRequest", "not a frame");
        },
        () => 0.5,
      ),
      { code: "BadRequest" },
    );
    assert.deepEqual(
      observed.filter((o) => o.deployment === "green"),
      [],
      "the client's mistake is not the new model's",
    );
  }
  {
    const { tap, compared } = recordingTap(1);
    const served = await serveInRollout(
      tap,
      green,
      blue,
      async (t) => ok(t === green ? "[1]" : "[0]"),
      () => 0,
    );
    assert.equal(served.target, green);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(compared, [["[0]", "[1]"]], "stable's answer first");
  }
});

test("shadow: a mirrored copy is compared with the live answer; its refusal counts only when the live one accepted", async () => {
  {
    const { tap, observed, compared } = recordingTap();
    shadowCompare(tap, Promise.resolve(ok("[0]")), Promise.resolve(ok("[1]")));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(compared, [["[0]", "[1]"]]);
    assert.equal(observed[0]!.outcome.ok, true);
  }
  {
    const { tap, observed } = recordingTap();
    const refused = Promise.reject(new HttpError("BadRequest", "no"));
    shadowCompare(tap, Promise.reject(new HttpError("BadRequest", "no")), refused);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(observed, [], "both refused it: the client's mistake");
  }
  {
    const { tap, observed } = recordingTap();
    shadowCompare(tap, Promise.resolve(ok("[0]")), Promise.reject(new HttpError("BadRequest", "no")));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      observed.map((o) => (o.outcome.ok ? "ok" : o.outcome.kind)),
      ["refused"],
    );
  }
});

test("count: every request routed to a deployment leaves its outcome for the doctor, refusals with their code", async (t) => {
  const table = routing();
  const stats = new RequestStats();
  const g = createGateway({ routing: table, metrics: createMetrics(table), stats });
  t.after(() => g.close());
  await send(g, "POST", "/endpoints/fin/score", key, JSON.stringify({ input_data: [{ Age: 3 }] }));
  await send(g, "POST", "/endpoints/fin/score", key, JSON.stringify({ input_data: [{ Age: "old" }] }));
  await send(g, "POST", "/endpoints/fin/score", {}, "{}");
  const summary = stats.summary(table.target("fin", "blue")!)!;
  assert.deepEqual(summary.outcomes, { "400": 1, "503": 1 }, "the 401 never reached a deployment");
  assert.deepEqual(Object.keys(summary.refused), ["InputConversionFailed"]);
});
