/**
 * Scoring scripts as Azure's inference server runs them: small score.py projects, each deployed
 * unchanged to a real `pier up` and called over HTTP. Every case cites what it follows: a module of
 * azureml-inference-server-http (microsoft/azureml-inference-server: server/user_script.py,
 * server/input_parsers.py, server/routes.py, server/swagger.py, api/aml_response.py), inference-schema
 * (Azure/InferenceSchema: schema_decorators.py and the parameter types), or the Azure docs
 * (how-to-inference-server-http, how-to-troubleshoot-online-endpoints). The companion packages the
 * scripts import come with pier, as they come with the server on Azure: none is installed here.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { stringify } from "yaml";
import { type RunningPier, servePier, tempDir } from "../helpers.js";

const CONDA = `name: scripts
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - pip:
    - numpy
    - pandas
    - inference-schema[numpy-support]
    - azureml-inference-server-http
`;

const PLAIN = `import json, os
import numpy as np

def init():
    pass

def run(raw_data):
    if raw_data == "none":
        return None
    if raw_data == "string":
        return "text"
    if raw_data == "numpy":
        return np.array([1.5, 2.5])
    if raw_data == "raise":
        raise RuntimeError("the model broke")
    if raw_data == "env":
        return {k: os.environ.get(k) for k in ("AML_APP_ROOT", "AZUREML_ENTRY_SCRIPT", "AZUREML_MODEL_DIR")}
    return {"echo": json.loads(raw_data)}
`;

const HEADERS = `def init():
    pass

def run(data, request_headers):
    return {"data": data, "client": request_headers.get("X-Ms-Client-Request-Id"),
            "auth": "Authorization" in request_headers, "type": request_headers.get("Content-Type")}
`;

const SCHEMA = `import numpy as np
import pandas as pd
from inference_schema.schema_decorators import input_schema, output_schema
from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
from inference_schema.parameter_types.pandas_parameter_type import PandasParameterType
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

def init():
    pass

@input_schema("data", NumpyParameterType(np.array([[1.0, 2.0, 3.0]])))
@input_schema("GlobalParameters", StandardPythonParameterType({
    "method": "sum", "table": PandasParameterType(pd.DataFrame({"a": [1.0], "b": ["x"]}))}))
@output_schema(StandardPythonParameterType({"total": [6.0]}))
def run(data, GlobalParameters):
    table = GlobalParameters["table"]
    return {"total": data.sum(axis=1).tolist(), "data": type(data).__name__, "dtype": str(data.dtype),
            "table": type(table).__name__, "rows": len(table), "method": GlobalParameters["method"]}
`;

const RAW = `import json
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse

def init():
    pass

@rawhttp
def run(request):
    if request.method == "GET":
        return AMLResponse(request.full_path, 200)
    if request.args.get("fail"):
        return AMLResponse("broken", 503)
    if request.args.get("image"):
        resp = AMLResponse(message=b"\\xff\\xd8jpeg", status_code=200)
        resp.mimetype = "image/jpg"
        return resp
    if request.args.get("nofile"):
        return AMLResponse("No file uploaded", status_code=422)
    if request.files:
        image = request.files["image"]
        return AMLResponse({"name": image.filename, "bytes": len(image.read()), "note": request.form.get("note")}, 200, json_str=True)
    return AMLResponse(request.get_data(), 201, {"Content-Type": "application/octet-stream", "X-Custom": "a, b"})
`;

const SCRIPTS: Record<string, string> = {
  plain: PLAIN,
  headers: HEADERS,
  schema: SCHEMA,
  raw: RAW,
  swaggerfile: "def init():\n    pass\n\ndef run(raw):\n    return raw\n",
};

let pier: RunningPier;
let key: string;
let work: string;

function project(name: string, script: string, extra: Record<string, string> = {}): string {
  const dir = join(work, name);
  mkdirSync(join(dir, "model"), { recursive: true });
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, "model", "weights.json"), "{}");
  writeFileSync(join(dir, name, "score.py"), script);
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(dir, name, file), text);
  writeFileSync(join(dir, "conda.yml"), CONDA);
  const file = join(dir, "deployment.yml");
  writeFileSync(
    file,
    stringify({
      name,
      endpoint_name: "scripts",
      model: { path: "./model", type: "custom_model" },
      code_configuration: { code: `./${name}`, scoring_script: "score.py" },
      environment: {
        conda_file: "./conda.yml",
        image: "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
      },
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
    }),
  );
  return file;
}

/** What the suite's hooks clean up: pier up and the temp folder, as a test's own t.after would. */
const cleanups: (() => unknown)[] = [];
const suite = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

before(async () => {
  work = tempDir(suite, "pier-scripts-");
  pier = await servePier(suite);
  assert.equal((await pier.run(["endpoint", "create", "-n", "scripts"])).code, 0);
  key = JSON.parse(
    (await pier.run(["endpoint", "get-credentials", "scripts", "-o", "json"])).stdout,
  ).primaryKey;
  const swagger2 = JSON.stringify({
    swagger: "2.0",
    info: { title: "from the code folder", version: "7" },
    paths: {},
  });
  for (const [name, script] of Object.entries(SCRIPTS)) {
    const created = await pier.run([
      "deployment",
      "create",
      "-f",
      project(name, script, name === "swaggerfile" ? { "swagger2.json": swagger2 } : {}),
    ]);
    assert.equal(created.code, 0, `${name}: ${created.stdout}${created.stderr}`);
  }
});

interface Answer {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
  bytes: Buffer;
}

async function call(
  deployment: string,
  init: {
    method?: string;
    path?: string;
    body?: string | Uint8Array | FormData;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const response = await fetch(`${pier.url}/endpoints/scripts/${init.path ?? "score"}`, {
    method: init.method ?? "POST",
    headers: { authorization: `Bearer ${key}`, "azureml-model-deployment": deployment, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, text, json, headers: response.headers, bytes };
}

const json = (body: unknown) => ({
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});
const RUN_FAILED = {
  message: "An unexpected error occurred in scoring script. Check the logs for more info.",
};
const INTERNAL = { message: "An unexpected internal error occurred. Check the logs for more info." };

interface Case {
  name: string;
  /** What it follows: the server's module and function, inference-schema's, or a docs page. */
  source: string;
  deployment: string;
  request: Parameters<typeof call>[1];
  /**
   * What the inference server answers. The endpoint passes a 200 on and answers anything else as 424
   * with the server's status in ms-azureml-model-error-statuscode (how-to-troubleshoot-online-endpoints,
   * "424 Model Error: the container returned a non-200 response"); a 424 here is the endpoint's own.
   */
  status: number;
  body?: unknown;
  check?: (a: Answer) => void;
}

const CASES: Case[] = [
  // What run() returns (routes.py wrap_response, api/aml_response.py).
  {
    name: "a dict is JSON-encoded",
    source: "server/routes.py wrap_response → AMLResponse(response, 200, json_str=True)",
    deployment: "plain",
    request: json({ a: 1 }),
    status: 200,
    body: { echo: { a: 1 } },
    check: (a) => assert.match(a.headers.get("content-type") ?? "", /^application\/json/),
  },
  {
    name: "None is an empty JSON object",
    source: "api/aml_response.py: `if message is not None … else: super().__init__(json.dumps({})`",
    deployment: "plain",
    request: { body: "none" },
    status: 200,
    body: {},
  },
  {
    name: "a returned str is encoded once more",
    source: "server/routes.py wrap_response (json.dumps of a str)",
    deployment: "plain",
    request: { body: "string" },
    status: 200,
    body: "text",
  },
  {
    name: "a numpy array fails as on Azure (the server cannot encode it)",
    source:
      'server/routes.py all_unhandled_exception: ErrorResponse(500, "An unexpected internal error occurred. Check the logs for more info.")',
    deployment: "plain",
    request: { body: "numpy" },
    status: 424,
    body: INTERNAL,
    check: (a) => assert.equal(a.headers.get("ms-azureml-model-error-statuscode"), "500"),
  },
  {
    name: "an exception in run() is the server's 500 with a generic message",
    source:
      'server/routes.py handle_score: except UserScriptException → ErrorResponse(500, "An unexpected error occurred in scoring script. Check the logs for more info.", run_function_failed=True)',
    deployment: "plain",
    request: { body: "raise" },
    status: 424,
    body: RUN_FAILED,
    check: (a) => assert.equal(a.headers.get("x-ms-run-function-failed"), "True"),
  },
  // What run() gets (input_parsers.py).
  {
    name: "a body that is not UTF-8 is a 400",
    source:
      'server/input_parsers.py JsonStringInput: raise BadInput(f"Input cannot be decoded as UTF-8: {ex}")',
    deployment: "plain",
    request: { body: new Uint8Array([0xff, 0xfe, 0x41]) },
    status: 400,
    check: (a) =>
      assert.match(
        (a.json as { message: string }).message,
        /^Input cannot be decoded as UTF-8: 'utf-8' codec can't decode byte 0xff/,
      ),
  },
  {
    name: "GET passes the query to run() as JSON",
    source:
      'server/input_parsers.py _parse_get_parameters: /score?a=1&b=[1,2]&c=a → {"a": 1, "b": [1, 2], "c": "a"}',
    deployment: "plain",
    request: { method: "GET", path: "score?a=1&b=[1,2]&c=a&c=z" },
    status: 200,
    body: { echo: { a: 1, b: [1, 2], c: ["a", "z"] } },
  },
  {
    name: "OPTIONS is 200",
    source: 'server/routes.py handle_score: `if request.method == "OPTIONS": return AMLResponse("", 200)`',
    deployment: "plain",
    request: { method: "OPTIONS" },
    status: 200,
  },
  {
    name: "other methods are 405",
    source: 'server/routes.py handle_score: ErrorResponse(405, "Method not allowed")',
    deployment: "plain",
    request: { method: "PUT", body: "x" },
    status: 405,
    body: { message: "Method not allowed" },
  },
  {
    name: "the server's environment variables",
    source: "how-to-inference-server-http (AML_APP_ROOT, AZUREML_ENTRY_SCRIPT, AZUREML_MODEL_DIR)",
    deployment: "plain",
    request: { body: "env" },
    status: 200,
    check: (a) => {
      const env = a.json as Record<string, string>;
      assert.match(env.AML_APP_ROOT!, /\/app$/);
      assert.equal(env.AZUREML_ENTRY_SCRIPT, "plain/score.py");
      assert.match(env.AZUREML_MODEL_DIR!, /\/app\/azureml-models\/scripts-plain\/1$/);
    },
  },
  {
    name: "response headers: run time, function-failed, request ids",
    source: "server/routes.py populate_response_headers and handle_score (x-ms-run-fn-exec-ms)",
    deployment: "plain",
    request: {
      ...json({ a: 1 }),
      headers: { "content-type": "application/json", "x-ms-client-request-id": "client-7" },
    },
    status: 200,
    check: (a) => {
      assert.match(a.headers.get("x-ms-run-fn-exec-ms") ?? "", /^\d+\.\d{3}$/);
      assert.equal(a.headers.get("x-ms-run-function-failed"), "False");
      assert.equal(a.headers.get("x-ms-request-id"), "client-7");
      assert.match(a.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    },
  },
  {
    name: "the deprecated x-ms-request-id is echoed as it came",
    source:
      'server/routes.py _init_headers: `legacy_client_request_id = request.headers.get("x-ms-request-id", "")`',
    deployment: "plain",
    request: {
      ...json({ a: 2 }),
      headers: { "content-type": "application/json", "x-ms-request-id": "legacy-1" },
    },
    status: 200,
    check: (a) => assert.equal(a.headers.get("x-ms-request-id"), "legacy-1"),
  },
  {
    name: "GET without a query gives run() an empty JSON object",
    source:
      "server/input_parsers.py JsonStringInput._parse_get_input: json.dumps(self._parse_get_parameters(request))",
    deployment: "plain",
    request: { method: "GET" },
    status: 200,
    body: { echo: {} },
  },
  {
    name: "run(data, request_headers) gets the headers (never the key)",
    source:
      'server/user_script.py _analyze_run: `if any(param.name == "request_headers" …)` → run(**params, request_headers=dict(request.headers))',
    deployment: "headers",
    request: { body: "hi", headers: { "content-type": "text/plain", "x-ms-client-request-id": "abc" } },
    status: 200,
    body: { data: "hi", client: "abc", auth: false, type: "text/plain" },
  },
  // @input_schema (input_parsers.py ObjectInput, inference_schema/schema_decorators.py).
  {
    name: "@input_schema: keys become parameters, cast to numpy and pandas, nested too",
    source:
      "server/input_parsers.py ObjectInput._extract_parameters; schema_decorators.py _deserialize_input_argument",
    deployment: "schema",
    request: json({
      data: [
        [1, 2, 3],
        [4, 5, 6],
      ],
      GlobalParameters: {
        method: "sum",
        table: [
          { a: 1, b: "y" },
          { a: 2, b: "z" },
        ],
      },
    }),
    status: 200,
    body: { total: [6, 15], data: "ndarray", dtype: "float64", table: "DataFrame", rows: 2, method: "sum" },
  },
  {
    name: "@input_schema: a missing parameter is a 400",
    source:
      'server/input_parsers.py ObjectInput: BadInput(f"A value is not provided for the {parameter.name!r} parameter.")',
    deployment: "schema",
    request: json({ data: [[1, 2, 3]] }),
    status: 400,
    body: { message: "A value is not provided for the 'GlobalParameters' parameter." },
  },
  {
    name: "@input_schema: a content type that is not JSON is a 415",
    source:
      'server/input_parsers.py ObjectInput: UnsupportedInput("Expects Content-Type to be application/json")',
    deployment: "schema",
    request: { body: "{}", headers: { "content-type": "text/plain" } },
    status: 415,
    body: { message: "Expects Content-Type to be application/json" },
  },
  {
    name: "@input_schema: a body that is not a JSON object is a 400",
    source: 'server/input_parsers.py ObjectInput: BadInput("POST body should be a JSON dictionary.")',
    deployment: "schema",
    request: json([1, 2]),
    status: 400,
    body: { message: "POST body should be a JSON dictionary." },
  },
  {
    name: "@input_schema: malformed JSON is a 400",
    source: 'server/input_parsers.py ObjectInput: BadInput(f"POST body could not be decoded as JSON: {ex}")',
    deployment: "schema",
    request: { body: "{nope", headers: { "content-type": "application/json" } },
    status: 400,
    check: (a) =>
      assert.match((a.json as { message: string }).message, /^POST body could not be decoded as JSON: /),
  },
  {
    name: "@input_schema: an empty body is a 400",
    source:
      'server/input_parsers.py ObjectInput: BadInput("POST body is empty. Expecting a JSON dictionary.")',
    deployment: "schema",
    request: { body: "", headers: { "content-type": "application/json" } },
    status: 400,
    body: { message: "POST body is empty. Expecting a JSON dictionary." },
  },
  {
    name: "@input_schema: an array of the wrong width fails inside run()",
    source:
      'numpy_parameter_type.py deserialize_input: ValueError("Invalid input array: array has size … on dimension #1 …"), raised in run() → 500',
    deployment: "schema",
    request: json({ data: [[1, 2]], GlobalParameters: { method: "sum", table: [] } }),
    status: 424,
    body: RUN_FAILED,
  },
  {
    name: "@input_schema: GET takes the parameters from the query",
    source: "server/input_parsers.py ObjectInput._parse_get_input",
    deployment: "schema",
    request: {
      method: "GET",
      path: `score?data=${encodeURIComponent("[[1,1,1]]")}&GlobalParameters=${encodeURIComponent('{"method":"get","table":[{"a":1,"b":"q"}]}')}`,
    },
    status: 200,
    check: (a) => assert.deepEqual((a.json as { total: number[]; method: string }).total, [3]),
  },
  // @rawhttp, AMLRequest and AMLResponse (api/aml_request.py, api/aml_response.py).
  {
    name: "@rawhttp: run() gets the request; a str AMLResponse is text/html",
    source:
      "api/aml_request.py rawhttp; api/aml_response.py AMLResponse(message, status_code) (Flask's default text/html)",
    deployment: "raw",
    request: { method: "GET", path: "score?x=1" },
    status: 200,
    check: (a) => {
      assert.equal(a.text, "/score?x=1");
      assert.match(a.headers.get("content-type") ?? "", /^text\/html/);
    },
  },
  {
    name: "@rawhttp: bytes in, bytes out, the script's status and headers (a comma splits a header)",
    source: 'api/aml_response.py: `for v in value.split(","): self.headers.add_header(header, v.strip())`',
    deployment: "raw",
    request: {
      body: new Uint8Array([0, 1, 2, 255]),
      headers: { "content-type": "application/octet-stream" },
    },
    status: 201,
    check: (a) => {
      assert.deepEqual([...a.bytes], [0, 1, 2, 255]);
      assert.equal(a.headers.get("content-type"), "application/octet-stream");
      assert.equal(a.headers.get("x-custom"), "a, b");
    },
  },
  {
    name: "@rawhttp: a mimetype set on the AMLResponse is its Content-Type (binary-payloads example)",
    source:
      "api/aml_response.py AMLResponse is a Flask Response (werkzeug's mimetype setter); azureml-examples managed/binary-payloads single-file-to-file-score.py",
    deployment: "raw",
    request: { path: "score?image=1", body: "x" },
    status: 200,
    check: (a) => assert.equal(a.headers.get("content-type"), "image/jpg"),
  },
  {
    name: "@rawhttp: the script's own 422 reaches the client as the endpoint's 424, its status in a header",
    source:
      'azureml-examples binary-payloads `AMLResponse("No file uploaded", status_code=422)`; how-to-troubleshoot-online-endpoints 424',
    deployment: "raw",
    request: { path: "score?nofile=1", body: "x" },
    status: 422,
    check: (a) => assert.equal(a.text, "No file uploaded"),
  },
  {
    name: "@rawhttp: a multipart upload's files and fields",
    source: "api/aml_request.py AMLRequest (a Flask request: request.files, request.form)",
    deployment: "raw",
    request: {
      body: (() => {
        const form = new FormData();
        form.append("note", "cat");
        form.append("image", new Blob([new Uint8Array(10)]), "cat.png");
        return form;
      })(),
    },
    status: 200,
    body: { name: "cat.png", bytes: 10, note: "cat" },
  },
  {
    name: "@rawhttp: a 5xx AMLResponse is the model's failure (424 at the endpoint)",
    source:
      "server/routes.py: `if response.status_code >= 500: … x-ms-run-function-failed`; reference 424 ms-azureml-model-error-statuscode",
    deployment: "raw",
    request: { path: "score?fail=1", body: "x" },
    status: 424,
    check: (a) => {
      assert.equal(a.text, "broken");
      assert.equal(a.headers.get("ms-azureml-model-error-statuscode"), "503");
      assert.equal(a.headers.get("x-ms-run-function-failed"), "True");
    },
  },
  // Swagger (server/swagger.py).
  {
    name: "swagger 2 from the decorators",
    source:
      "server/swagger.py Swagger2Builder._update_definitions: definitions.ServiceInput / ServiceOutput from inference-schema",
    deployment: "schema",
    request: { method: "GET", path: "swagger.json" },
    status: 200,
    check: (a) => {
      const doc = a.json as {
        swagger: string;
        definitions: {
          ServiceInput: { properties: Record<string, { format?: string }>; example: Record<string, unknown> };
          ServiceOutput: { example: unknown };
        };
      };
      assert.equal(doc.swagger, "2.0");
      assert.equal(doc.definitions.ServiceInput.properties.data!.format, "numpy.ndarray");
      assert.deepEqual(doc.definitions.ServiceInput.example.data, [[1, 2, 3]]);
      assert.deepEqual(doc.definitions.ServiceOutput.example, { total: [6] });
    },
  },
  {
    name: "swagger 3 on ?version=3",
    source: "server/swagger.py Swagger3Builder (openapi 3.0.3, components.schemas)",
    deployment: "schema",
    request: { method: "GET", path: "swagger.json?version=3" },
    status: 200,
    check: (a) => assert.equal((a.json as { openapi: string }).openapi, "3.0.3"),
  },
  {
    name: "an unknown swagger version is a 404",
    source:
      'server/swagger.py get_swagger: SwaggerException("Swagger version [4] is not valid. Supported versions: […].") → routes.py ErrorResponse(404)',
    deployment: "schema",
    request: { method: "GET", path: "swagger.json?version=4" },
    status: 404,
    check: (a) =>
      assert.match(
        (a.json as { message: string }).message,
        /^Swagger version \[4\] is not valid\. Supported versions: \[2, 3, 3\.1\]\.$/,
      ),
  },
  {
    name: "an undecorated run() gets the generic swagger",
    source:
      'server/swagger.py _generate_swagger: `input_schema = output_schema = {"type": "object", "example": {}}`',
    deployment: "plain",
    request: { method: "GET", path: "swagger.json" },
    status: 200,
    check: (a) =>
      assert.deepEqual((a.json as { definitions: { ServiceInput: unknown } }).definitions.ServiceInput, {
        type: "object",
        example: {},
      }),
  },
  {
    name: "a swagger2.json in the code folder is served as it is",
    source: "server/swagger.py Swagger2Builder._read_user_swagger (swagger.json, then swagger2.json)",
    deployment: "swaggerfile",
    request: { method: "GET", path: "swagger.json" },
    status: 200,
    body: { swagger: "2.0", info: { title: "from the code folder", version: "7" }, paths: {} },
  },
];

test("scoring scripts answer as Azure's inference server does, case by case, each citing its reference", async () => {
  const failures: string[] = [];
  for (const c of CASES) {
    const a = await call(c.deployment, c.request);
    try {
      // swagger.json is the endpoint's document (openapi_uri), answered as the server answers it.
      const document = c.request?.path?.startsWith("swagger") ?? false;
      if (c.status === 200 || c.status === 424 || document)
        assert.equal(a.status, c.status, `status (${a.text.slice(0, 200)})`);
      else {
        assert.equal(
          a.status,
          424,
          `the endpoint's status for the server's ${c.status} (${a.text.slice(0, 200)})`,
        );
        assert.equal(
          a.headers.get("ms-azureml-model-error-statuscode"),
          String(c.status),
          "the server's status",
        );
      }
      if (c.body !== undefined) assert.deepEqual(a.json, c.body);
      c.check?.(a);
    } catch (error) {
      failures.push(`${c.name} [${c.source}]: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(CASES.length >= 30);
});

test("the doctor says why a script that runs here would fail on Azure, and what Azure refuses to load", async () => {
  // The numpy answer above failed as it would on Azure; the doctor names the cause and the fix.
  const doctor = await pier.run(["doctor", "scripts", "plain"]);
  assert.match(
    doctor.stdout,
    /✘ UnserializableOutput: 1 of \d+ requests failed: the model answered a numpy\.ndarray, which JSON cannot encode/,
  );
  assert.match(doctor.stdout, /How to fix: In run\(\) \(or the model's predict\), call \.tolist\(\) on it/);

  const refused: [string, string, RegExp][] = [
    [
      "starargs",
      "def init():\n    pass\n\ndef run(*args):\n    return 1\n",
      /run\(\) cannot accept positional-only arguments, \*args, or \*\*kwargs\./,
    ],
    [
      "noinput",
      "def init():\n    pass\n\ndef run():\n    return 1\n",
      /run\(\) needs to accept an argument for input data\./,
    ],
    [
      "both",
      `from azureml.contrib.services.aml_request import rawhttp\nfrom inference_schema.schema_decorators import input_schema\nfrom inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType\n\ndef init():\n    pass\n\n@rawhttp\n@input_schema("request", StandardPythonParameterType(1))\ndef run(request):\n    return 1\n`,
      /run\(\) cannot be decorated with both @rawhttp and @input_schema/,
    ],
  ];
  for (const [name, script, message] of refused) {
    const result = await pier.run(["deployment", "create", "-f", project(name, script), "-o", "json"]);
    assert.equal(result.code, 1, name);
    const view = JSON.parse(result.stdout) as { error: { code: string; summary: string } };
    assert.equal(view.error.code, "UserScriptRunInvalid", name);
    assert.match(view.error.summary, message, name);
  }

  // A package nothing provides is named by its pip name; the companions never are.
  const cv = await pier.run([
    "deployment",
    "create",
    "-f",
    project(
      "opencv",
      "import cv2\nfrom inference_schema.schema_decorators import input_schema\n\ndef init():\n    pass\n\ndef run(raw):\n    return raw\n",
    ),
  ]);
  assert.equal(cv.code, 1);
  assert.match(cv.stdout + cv.stderr, /UserScriptImportError/);
  assert.match(cv.stdout + cv.stderr, /Add opencv-python \(the package that provides 'cv2'\)/);
  assert.doesNotMatch(cv.stdout + cv.stderr, /provides 'inference_schema'|provides 'azureml/);
});
