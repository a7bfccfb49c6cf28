/**
 * Conformance suites, run as black boxes against real deployments:
 * - /invocations against MLflow's scoring server, on the ElasticNet of MLflow's diabetes example (a
 *   scikit-learn model with ten named double columns, served by pier's Python host). Each case cites
 *   the MLflow source it comes from (file, function and the line, as of MLflow 2.x:
 *   mlflow/pyfunc/scoring_server/__init__.py and mlflow/utils/proto_json_utils.py), and predictions
 *   are compared with what scikit-learn itself predicts for the same rows.
 * - v2 against the Open Inference Protocol's REST API (kserve's required_api.md and
 *   rest_predict_v2.yaml; Triton's HTTP mapping), on an ONNX model with two inputs of different types
 *   and on the ElasticNet.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { type PierServer, REPO_ROOT, servePier } from "../helpers.js";

const PYTHON = process.env.PIER_TEST_PYTHON ?? "/usr/bin/python3";
let pier: PierServer;
let work: string;
let expected: { columns: string[]; data: number[][]; predictions: number[] };
const keys = new Map<string, string>();

async function deploy(endpoint: string, model: string): Promise<void> {
  assert.equal((await pier.run(["endpoint", "create", "-n", endpoint])).code, 0);
  keys.set(
    endpoint,
    JSON.parse((await pier.run(["endpoint", "get-credentials", endpoint, "-o", "json"])).stdout).primaryKey,
  );
  const file = join(work, `${endpoint}.yml`);
  writeFileSync(
    file,
    stringify({
      name: "blue",
      endpoint_name: endpoint,
      model,
      instance_type: "Standard_DS3_v2",
      instance_count: 1,
      request_settings: { max_concurrent_requests_per_instance: 4 },
    }),
  );
  const result = await pier.run(["deployment", "create", "-f", file, "--all-traffic"]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "pier-conformance-"));
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_pickles.py"), "elasticnet", join(work, "enet")]);
  execFileSync(PYTHON, [join(REPO_ROOT, "test/tools/make_onnx.py"), join(work, "onnx")]);
  expected = JSON.parse(readFileSync(join(work, "enet.expected.json"), "utf8"));
  pier = await servePier();
  await deploy("enet", join(work, "enet"));
  await deploy("tensors", join(work, "onnx", "two-dtypes"));
});
after(async () => {
  await pier.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Answer {
  status: number;
  type: string;
  text: string;
  json: Record<string, unknown> | undefined;
  headers: Headers;
}

async function send(
  endpoint: string,
  path: string,
  body: unknown,
  init: { method?: string; contentType?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${keys.get(endpoint)}` };
  if (init.contentType !== null) headers["content-type"] = init.contentType ?? "application/json";
  const response = await fetch(`${pier.url}/endpoints/${endpoint}/${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {}
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    text,
    json,
    headers: response.headers,
  };
}

const records = () =>
  expected.data.map((row) => Object.fromEntries(expected.columns.map((c, i) => [c, row[i]])));
const split = () => ({ columns: expected.columns, data: expected.data });
const close = (got: unknown) =>
  Array.isArray(got) &&
  got.length === expected.predictions.length &&
  got.every((p, i) => Math.abs((p as number) - expected.predictions[i]!) < 1e-9);

interface MlflowCase {
  name: string;
  /** Where MLflow does it: file, function, and the line. */
  source: string;
  body: unknown;
  contentType?: string | null;
  status: number;
  /** 200: the predictions must be scikit-learn's own. */
  errorCode?: string;
  message?: RegExp;
  check?: (answer: Answer) => void;
}

const SERVER = "mlflow/pyfunc/scoring_server/__init__.py";
const PARSER = "mlflow/utils/proto_json_utils.py";
const MODELS = "mlflow/models/utils.py";

/** Built once the model's rows are known (in before()). */
const mlflowCases = (): MlflowCase[] => [
  // Formats that score.
  {
    name: "dataframe_split with columns and data",
    source: `${SERVER} infer_and_parse_data: \`return dataframe_from_parsed_json(data[input_format], pandas_orient=pandas_orient, schema=schema)\``,
    body: { dataframe_split: split() },
    status: 200,
  },
  {
    name: "dataframe_split with an index",
    source: `${PARSER} dataframe_from_parsed_json: \`pd.DataFrame(index=decoded_input.get("index"), columns=decoded_input.get("columns"), data=decoded_input["data"])\``,
    body: { dataframe_split: { ...split(), index: [5, 6, 7] } },
    status: 200,
  },
  {
    name: "dataframe_records",
    source: `${PARSER} dataframe_from_parsed_json: \`pdf = pd.DataFrame(data=decoded_input)\``,
    body: { dataframe_records: records() },
    status: 200,
  },
  {
    name: "instances as row objects",
    source: `${PARSER} parse_instances_data: \`if isinstance(data, list) and len(data) > 0 and isinstance(data[0], dict):\``,
    body: { instances: records() },
    status: 200,
  },
  {
    name: "inputs as a dict of columns",
    source: `${PARSER} parse_tf_serving_input: \`return _cast_schema_type(inp_dict["inputs"], schema)\``,
    body: { inputs: Object.fromEntries(expected.columns.map((c, i) => [c, expected.data.map((r) => r[i])])) },
    status: 200,
  },
  {
    name: "text/csv",
    source: `${SERVER} invocations(): \`if mime_type == CONTENT_TYPE_CSV: … data = parse_csv_input(csv_input=csv_input, schema=input_schema)\``,
    body: `${expected.columns.join(",")}\n${expected.data.map((r) => r.join(",")).join("\n")}\n`,
    contentType: "text/csv",
    status: 200,
  },
  {
    name: "text/csv; charset=utf-8",
    source: `${SERVER} invocations(): \`charset = parameter_values.get("charset", "utf-8").lower()\``,
    body: `${expected.columns.join(",")}\n${expected.data.map((r) => r.join(",")).join("\n")}\n`,
    contentType: "text/csv; charset=utf-8",
    status: 200,
  },
  {
    name: "application/json; charset=UTF-8",
    source: `tests/pyfunc/test_scoring_server.py: \`content_type=pyfunc_scoring_server.CONTENT_TYPE_JSON + "; charset=UTF-8"\` → 200`,
    body: { dataframe_split: split() },
    contentType: "application/json; charset=UTF-8",
    status: 200,
  },
  {
    name: "columns in another order are reordered",
    source: `${MODELS} _enforce_named_col_schema: inputs are taken by name, in the schema's order`,
    body: { dataframe_records: records().map((r) => Object.fromEntries(Object.entries(r).reverse())) },
    status: 200,
  },
  {
    name: "extra columns are dropped",
    source: `${MODELS} _enforce_schema: extra columns are dropped (only missing ones are an error)`,
    body: { dataframe_records: records().map((r) => ({ ...r, extra: "x" })) },
    status: 200,
  },
  {
    name: "numeric strings are cast to double",
    source: `${PARSER} cast_df_types_according_to_schema: \`pdf[col_name] = pdf[col_name].astype(col_type, copy=False)\``,
    body: { dataframe_split: { columns: expected.columns, data: expected.data.map((r) => r.map(String)) } },
    status: 200,
  },
  {
    name: "numeric strings in dataframe_records",
    source: `${PARSER} cast_df_types_according_to_schema: \`.astype(col_type, copy=False)\``,
    body: { dataframe_records: records().map((r) => ({ ...r, age: String(r.age) })) },
    status: 200,
  },
  {
    name: "params without a params schema are ignored",
    source: `mlflow/pyfunc/__init__.py _validate_params: "\`params\` can only be specified at inference time if the model signature defines a params schema. This model does not define a params schema. Ignoring provided params"`,
    body: { dataframe_split: split(), params: { alpha: 2 } },
    status: 200,
    check: (a) => assert.equal(a.headers.get("x-pier-params-ignored"), "alpha"),
  },
  {
    name: "a pier-only predict_method param is ignored too (pier's extension is the x-pier-predict-method header)",
    source: "mlflow/pyfunc/__init__.py _validate_params (params dropped without a params schema)",
    body: { dataframe_split: split(), params: { predict_method: "predict_proba" } },
    status: 200,
  },
  // NaN: Python's json.loads reads the bare token, so the value reaches the model (scikit-learn refuses it).
  {
    name: "the NaN token is read as a number and reaches the model",
    source: `${SERVER} _decode_json_input: \`decoded_input = json.loads(json_input)\` (Python's json accepts NaN)`,
    body: `{"dataframe_split": {"columns": ${JSON.stringify(expected.columns)}, "data": [[NaN, ${expected.data[0]!.slice(1).join(", ")}]]}}`,
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /^Encountered an unexpected error while evaluating the model/,
    check: (a) => assert.match(String(a.json?.stack_trace), /NaN/),
  },
  // Errors: content types (415, text/plain).
  {
    name: "an unknown content type",
    source: `${SERVER} invocations(): \`"This predictor only supports the following content types:" … status=415\``,
    body: { dataframe_split: split() },
    contentType: "text/plain",
    status: 415,
    check: (a) => {
      assert.match(a.type, /^text\/plain/);
      assert.match(a.text, /^This predictor only supports the following content types/);
    },
  },
  {
    name: "a charset other than UTF-8",
    source: `${SERVER} invocations(): \`if charset != "utf-8": return InvocationsResponse(response="The scoring server only supports UTF-8", status=415\``,
    body: { dataframe_split: split() },
    contentType: "application/json; charset=latin-1",
    status: 415,
    check: (a) => assert.equal(a.text, "The scoring server only supports UTF-8"),
  },
  {
    name: "a content-type parameter other than charset",
    source: `${SERVER} invocations(): \`"Unrecognized content type parameters: "\``,
    body: { dataframe_split: split() },
    contentType: "application/json; format=pandas-split",
    status: 415,
    check: (a) =>
      assert.match(
        a.text,
        /^Unrecognized content type parameters: format\. IMPORTANT: The MLflow Model scoring protocol has changed/,
      ),
  },
  // Errors: the body.
  {
    name: "malformed JSON",
    source: `${SERVER} _decode_json_input: \`raise MlflowInvalidInputException("Ensure that input is a valid JSON formatted string. "\``,
    body: "this is,,,, not valid json",
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /^Invalid input\. Ensure that input is a valid JSON formatted string/,
  },
  {
    name: "a list body",
    source: `${SERVER} _decode_json_input: \`raise MlflowInvalidInputException(f"{REQUIRED_INPUT_FORMAT}. Received a list.")\``,
    body: records(),
    status: 400,
    errorCode: "BAD_REQUEST",
    message:
      /^Invalid input\. The input must be a JSON dictionary with exactly one of the input fields .*Received a list\.$/,
  },
  {
    name: "a string body",
    source: `${SERVER} _decode_json_input: \`f"{REQUIRED_INPUT_FORMAT}. Received unexpected input type '{type(decoded_input)}."\``,
    body: JSON.stringify("not a dict or a list"),
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /Received unexpected input type '<class 'str'>/,
  },
  {
    name: "no format key (the 1.x {columns, data})",
    source: `${SERVER} infer_and_parse_data: \`message = f"Received dictionary with input fields: {list(data.keys())}"\``,
    body: split(),
    status: 400,
    errorCode: "BAD_REQUEST",
    message:
      /Received dictionary with input fields: \['columns', 'data'\]\. IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2\.0/,
  },
  {
    name: "two format keys",
    source: `${SERVER} infer_and_parse_data: \`if len(format_keys) != 1:\``,
    body: { dataframe_split: split(), instances: records() },
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /exactly one of the input fields/,
  },
  {
    name: "dataframe_split that is a list",
    source: `${PARSER} dataframe_from_parsed_json: \`f"Dataframe split format must be a dictionary. Got {typemessage}."\``,
    body: { dataframe_split: expected.data },
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /^Invalid input\. Dataframe split format must be a dictionary\. Got list\.$/,
  },
  {
    name: "dataframe_split without data",
    source: `${PARSER} dataframe_from_parsed_json: \`"Dataframe split format must have 'data' field and optionally 'columns' "\``,
    body: { dataframe_split: { columns: expected.columns, rows: expected.data } },
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /^Invalid input\. Dataframe split format must have 'data' field/,
  },
  {
    name: "dataframe_records that is a dict",
    source: `${PARSER} dataframe_from_parsed_json: \`f"Dataframe records format must be a list of records. Got {typemessage}."\``,
    body: { dataframe_records: records()[0] },
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /^Invalid input\. Dataframe records format must be a list of records\. Got dictionary\.$/,
  },
  {
    name: "a pandas 'table' orientation",
    source:
      "tests/pyfunc/test_scoring_server.py test_scoring_server_responds_to_invalid_pandas_input_format_with_stacktrace_and_error_code: BAD_REQUEST",
    body: { schema: {}, data: records() },
    status: 400,
    errorCode: "BAD_REQUEST",
  },
  {
    name: "empty CSV",
    source: `${SERVER} parse_csv_input: \`"Failed to parse input as a Pandas DataFrame. Ensure that the input is"\``,
    body: "",
    contentType: "text/csv",
    status: 400,
    errorCode: "BAD_REQUEST",
    message: /^Failed to parse input as a Pandas DataFrame/,
  },
  // Errors: the schema.
  {
    name: "a missing column",
    source: `${MODELS} _enforce_named_col_schema: "Model is missing inputs ['s6']."; pyfunc wraps it as INVALID_PARAMETER_VALUE ("Failed to enforce schema of data …")`,
    body: { dataframe_records: records().map(({ s6, ...r }) => r) },
    status: 400,
    errorCode: "INVALID_PARAMETER_VALUE",
    message: /Model is missing inputs \['s6'\]\./,
  },
  {
    name: "a missing column beside an extra one",
    source: `${MODELS} _enforce_named_col_schema: \`message += f" Note that there were extra inputs: {extra_cols}"\``,
    body: { dataframe_records: records().map(({ s6, ...r }) => ({ ...r, S6: 0 })) },
    status: 400,
    errorCode: "INVALID_PARAMETER_VALUE",
    message: /Model is missing inputs \['s6'\]\. Note that there were extra inputs: \['S6'\]\./,
  },
  {
    name: "rows without column names are not mapped by position",
    source: `${MODELS} _enforce_named_col_schema: a frame without names has columns 0, 1, …, so the named inputs are missing`,
    body: { dataframe_split: { data: expected.data } },
    status: 400,
    errorCode: "INVALID_PARAMETER_VALUE",
    message: /Model is missing inputs \['age', 'sex', 'bmi'/,
  },
  {
    name: "instances as rows of values are not mapped by position",
    source: `${PARSER} _cast_schema_type: a list of values is one array, not named columns`,
    body: { instances: expected.data },
    status: 400,
    errorCode: "INVALID_PARAMETER_VALUE",
    message: /Model is missing inputs/,
  },
  {
    name: "a string that is not a number in a double column",
    source: `${PARSER} MlflowFailedTypeConversion: \`f"Failed to convert column {col_name} to type '{col_type}'. Error: '{ex!r}'"\``,
    body: { dataframe_records: records().map((r) => ({ ...r, bmi: "heavy" })) },
    status: 400,
    errorCode: "BAD_REQUEST",
    message:
      /^Invalid input\. Data is not compatible with model signature\. Failed to convert column bmi to type 'float64'\. Error: 'ValueError\("could not convert string to float: 'heavy'"\)'$/,
  },
  {
    name: "a CSV cell that is not a number",
    source: `${SERVER} parse_csv_input: \`pd.read_csv(csv_input, dtype=dtypes)\``,
    body: `${expected.columns.join(",")}\n${["x", ...expected.data[0]!.slice(1)].join(",")}\n`,
    contentType: "text/csv",
    status: 400,
    errorCode: "BAD_REQUEST",
    message:
      /^Failed to parse input as a Pandas DataFrame\. .* Error: 'could not convert string to float: 'x''$/,
  },
  {
    name: "an empty frame",
    source: `${MODELS} _enforce_schema: a frame without the named columns`,
    body: { dataframe_records: [] },
    status: 400,
    errorCode: "BAD_REQUEST",
  },
  // The model's own exception: 400 with its stack trace.
  {
    name: "Infinity in a column fails inside the model (scikit-learn refuses it), with its stack trace",
    source: `${SERVER} invocations(): \`"Encountered an unexpected error while evaluating the model. Verify" … error_code=BAD_REQUEST, stack_trace=traceback.format_exc()\``,
    body: `{"dataframe_split": {"columns": ${JSON.stringify(expected.columns)}, "data": [[Infinity, ${expected.data[0]!.slice(1).join(", ")}]]}}`,
    status: 400,
    errorCode: "BAD_REQUEST",
    message:
      /^Encountered an unexpected error while evaluating the model\. Verify that the serialized input Dataframe is compatible with the model for inference\.$/,
    check: (a) => assert.match(String(a.json?.stack_trace), /Traceback|ValueError/),
  },
];

test("/invocations answers as MLflow's scoring server does, case by case, each citing MLflow's source", async () => {
  const failures: string[] = [];
  const cases = mlflowCases();
  assert.ok(cases.length >= 36);
  for (const c of cases) {
    const a = await send(
      "enet",
      "invocations",
      c.body,
      c.contentType === undefined ? {} : { contentType: c.contentType },
    );
    try {
      assert.equal(a.status, c.status, `status (${a.text.slice(0, 200)})`);
      if (c.status === 200)
        assert.ok(
          close((a.json as { predictions: unknown }).predictions),
          `predictions ${a.text.slice(0, 200)}`,
        );
      if (c.errorCode) assert.equal(a.json?.error_code, c.errorCode, `error_code (${a.text.slice(0, 200)})`);
      if (c.status >= 400 && c.status !== 415)
        assert.equal(typeof a.json?.message, "string", "an MLflow error body");
      if (c.message) assert.match(String(a.json?.message), c.message);
      c.check?.(a);
    } catch (error) {
      failures.push(`${c.name} [${c.source}]: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});

test("beside /invocations, /ping, /health and /version answer as MLflow's server does", async () => {
  // ${SERVER} init(): `@app.route("/ping", methods=["GET"])` … `flask.Response(response="\n", status=status`
  for (const path of ["ping", "health"]) {
    const a = await send("enet", path, undefined);
    assert.deepEqual([a.status, a.text], [200, "\n"], path);
  }
  // `@app.route("/version", methods=["GET"])` returns the MLflow version: pier gives the one the model was saved with.
  const version = await send("enet", "version", undefined);
  assert.deepEqual([version.status, version.text], [200, "2.9.2"]);
  // GET on the scoring route is not scoring.
  assert.equal((await send("enet", "invocations", undefined)).status, 405);
});

interface V2Case {
  name: string;
  /** The spec's words (kserve required_api.md, rest_predict_v2.yaml, Triton). */
  source: string;
  path: string;
  body?: unknown;
  status: number;
  check?: (answer: Answer) => void;
}

const REQUIRED_API = "kserve docs/predict-api/v2/required_api.md";
const infer = (inputs: unknown[], extra: Record<string, unknown> = {}) => ({ inputs, ...extra });
const x = { name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] };
const ids = { name: "ids", shape: [1, 2], datatype: "INT64", data: [1, 2] };
const errorBody = (a: Answer) => {
  assert.equal(typeof a.json?.error, "string", `an {"error": "<message>"} body: ${a.text}`);
  assert.deepEqual(Object.keys(a.json ?? {}), ["error"]);
};

const v2Cases = (): V2Case[] => [
  {
    name: "server live",
    source: `${REQUIRED_API} Server Live: GET v2/health/live, 200 means live`,
    path: "v2/health/live",
    status: 200,
  },
  {
    name: "server ready",
    source: `${REQUIRED_API} Server Ready: GET v2/health/ready`,
    path: "v2/health/ready",
    status: 200,
  },
  {
    name: "server metadata",
    source: `${REQUIRED_API} Server Metadata: GET v2 → {name, version, extensions}`,
    path: "v2",
    status: 200,
    check: (a) => assert.deepEqual(Object.keys(a.json ?? {}).sort(), ["extensions", "name", "version"]),
  },
  {
    name: "model ready",
    source: `${REQUIRED_API} Model Ready: GET v2/models/\${MODEL_NAME}[/versions/\${MODEL_VERSION}]/ready`,
    path: "v2/models/tensors-blue/ready",
    status: 200,
  },
  {
    name: "model ready, with its version",
    source: `${REQUIRED_API} Model Ready (versions form)`,
    path: "v2/models/tensors-blue/versions/1/ready",
    status: 200,
  },
  {
    name: "an unknown model is not ready",
    source: `${REQUIRED_API} Model Ready: "a 4xx status code indicating false"`,
    path: "v2/models/nope/ready",
    status: 404,
    check: errorBody,
  },
  {
    name: "model metadata: name, versions, platform, inputs and outputs with datatype and shape",
    source: `${REQUIRED_API} Model Metadata: $metadata_model_response`,
    path: "v2/models/tensors-blue",
    status: 200,
    check: (a) =>
      assert.deepEqual(a.json, {
        name: "tensors-blue",
        versions: ["1"],
        platform: "onnxruntime_onnx",
        inputs: [
          { name: "x", datatype: "FP32", shape: [-1, 4] },
          { name: "ids", datatype: "INT64", shape: [-1, 2] },
        ],
        outputs: [{ name: "y", datatype: "FP32", shape: [-1, 1] }],
      }),
  },
  {
    name: "model metadata, with its version",
    source: `${REQUIRED_API} Model Metadata (versions form)`,
    path: "v2/models/tensors-blue/versions/1",
    status: 200,
  },
  {
    name: "metadata of an unknown model",
    source: `${REQUIRED_API} Model Metadata: $metadata_model_error_response {"error": $string}`,
    path: "v2/models/nope",
    status: 404,
    check: errorBody,
  },
  {
    name: "metadata of an unknown version",
    source: `${REQUIRED_API} Model Metadata (versions form) of a version not served`,
    path: "v2/models/tensors-blue/versions/9",
    status: 404,
    check: errorBody,
  },
  {
    name: "infer",
    source: `${REQUIRED_API} Inference: POST v2/models/\${MODEL_NAME}/infer → $inference_response`,
    path: "v2/models/tensors-blue/infer",
    body: infer([x, ids]),
    status: 200,
    check: (a) => {
      assert.equal(a.json?.model_name, "tensors-blue");
      assert.equal(a.json?.model_version, "1");
      const [y] = a.json!.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
      assert.deepEqual([y!.name, y!.datatype, y!.shape, y!.data.length], ["y", "FP32", [1, 1], 1]);
    },
  },
  {
    name: "infer, with its version",
    source: `${REQUIRED_API} Inference: POST v2/models/\${MODEL_NAME}[/versions/\${MODEL_VERSION}]/infer`,
    path: "v2/models/tensors-blue/versions/1/infer",
    body: infer([x, ids]),
    status: 200,
    check: (a) => assert.equal(a.json?.model_version, "1"),
  },
  {
    name: "the request id is echoed",
    source: `${REQUIRED_API} $inference_response: "id" : $string #optional — the identifier given in the request`,
    path: "v2/models/tensors-blue/infer",
    body: infer([x, ids], { id: "42" }),
    status: 200,
    check: (a) => assert.equal(a.json?.id, "42"),
  },
  {
    name: "nested data is row-major",
    source: `${REQUIRED_API} Tensor Data: "the data can be represented … as nested arrays … in row-major order"`,
    path: "v2/models/tensors-blue/infer",
    body: infer([{ ...x, data: [[1, 2, 3, 4]] }, ids]),
    status: 200,
  },
  {
    name: "requested outputs",
    source: `${REQUIRED_API} $request_output: "outputs" … only the requested outputs are returned`,
    path: "v2/models/tensors-blue/infer",
    body: infer([x, ids], { outputs: [{ name: "y" }] }),
    status: 200,
    check: (a) =>
      assert.deepEqual(
        (a.json!.outputs as { name: string }[]).map((o) => o.name),
        ["y"],
      ),
  },
  {
    name: "an unknown requested output",
    source: 'Triton: unknown output → 400 "unexpected inference output"',
    path: "v2/models/tensors-blue/infer",
    body: infer([x, ids], { outputs: [{ name: "z" }] }),
    status: 400,
    check: errorBody,
  },
  {
    name: "infer on an unknown model",
    source: `${REQUIRED_API} Inference: $inference_error_response`,
    path: "v2/models/nope/infer",
    body: infer([x, ids]),
    status: 404,
    check: errorBody,
  },
  {
    name: "an unknown input name",
    source: "Triton: \"unexpected inference input 'w' for model\"",
    path: "v2/models/tensors-blue/infer",
    body: infer([x, ids, { ...ids, name: "w" }]),
    status: 400,
    check: errorBody,
  },
  {
    name: "a missing input",
    source: 'Triton: "expected 2 inputs but got 1 inputs for model"',
    path: "v2/models/tensors-blue/infer",
    body: infer([x]),
    status: 400,
    check: errorBody,
  },
  {
    name: "no datatype",
    source: `${REQUIRED_API} $request_input: "datatype" : $string (required)`,
    path: "v2/models/tensors-blue/infer",
    body: infer([{ name: "x", shape: [1, 4], data: [1, 2, 3, 4] }, ids]),
    status: 400,
    check: errorBody,
  },
  {
    name: "a datatype the protocol does not have",
    source: `${REQUIRED_API} Tensor Data Types: BOOL, UINT8…UINT64, INT8…INT64, FP16, FP32, FP64, BYTES (no DOUBLE)`,
    path: "v2/models/tensors-blue/infer",
    body: infer([{ ...x, datatype: "DOUBLE" }, ids]),
    status: 400,
    check: errorBody,
  },
  {
    name: "a datatype the model does not take",
    source: "Triton: \"unexpected datatype FP64 for inference input 'x', expecting FP32\"",
    path: "v2/models/tensors-blue/infer",
    body: infer([{ ...x, datatype: "FP64" }, ids]),
    status: 400,
    check: errorBody,
  },
  {
    name: "a shape that does not hold the data",
    source: `${REQUIRED_API} $request_input: "shape" : [ $number, … ] — the data has that many elements`,
    path: "v2/models/tensors-blue/infer",
    body: infer([{ ...x, shape: [2, 4] }, ids]),
    status: 400,
    check: errorBody,
  },
  {
    name: "a shape the model does not take",
    source: "Triton: \"unexpected shape for input 'x' for model\"",
    path: "v2/models/tensors-blue/infer",
    body: infer([{ ...x, shape: [1, 2], data: [1, 2] }, ids]),
    status: 400,
    check: errorBody,
  },
  {
    name: "no inputs",
    source: `${REQUIRED_API} $inference_request: "inputs" : [ $request_input, … ] (required)`,
    path: "v2/models/tensors-blue/infer",
    body: { id: "1" },
    status: 400,
    check: errorBody,
  },
  {
    name: "malformed JSON",
    source: `${REQUIRED_API} Inference: a malformed request is an $inference_error_response`,
    path: "v2/models/tensors-blue/infer",
    body: '{"inputs": [',
    status: 400,
    check: errorBody,
  },
  {
    name: "a column model: one input per column",
    source: `${REQUIRED_API} Inference, on a model of named columns`,
    path: "v2/models/enet-blue/infer",
    body: infer(
      expected.columns.map((c, i) => ({
        name: c,
        shape: [3],
        datatype: "FP64",
        data: expected.data.map((r) => r[i]),
      })),
    ),
    status: 200,
    check: (a) => {
      const [out] = a.json!.outputs as { data: number[] }[];
      assert.ok(close(out!.data));
    },
  },
  {
    name: "a column model: a column missing",
    source: `${REQUIRED_API} $inference_error_response`,
    path: "v2/models/enet-blue/infer",
    body: infer(
      expected.columns
        .slice(1)
        .map((c, i) => ({ name: c, shape: [3], datatype: "FP64", data: expected.data.map((r) => r[i + 1]) })),
    ),
    status: 400,
    check: (a) => {
      errorBody(a);
      assert.match(String(a.json?.error), /Model is missing inputs \['age'\]/);
    },
  },
  {
    name: "a column model: BYTES for a double column",
    source: "Triton: unexpected datatype",
    path: "v2/models/enet-blue/infer",
    body: infer(
      expected.columns.map((c, i) => ({
        name: c,
        shape: [3],
        datatype: i === 0 ? "BYTES" : "FP64",
        data: expected.data.map((r) => (i === 0 ? String(r[i]) : r[i])),
      })),
    ),
    status: 400,
    check: errorBody,
  },
  {
    name: "a column model's metadata",
    source: `${REQUIRED_API} Model Metadata`,
    path: "v2/models/enet-blue",
    status: 200,
    check: (a) =>
      assert.deepEqual(
        (a.json!.inputs as { name: string; datatype: string }[])
          .map((i) => `${i.name}:${i.datatype}`)
          .slice(0, 2),
        ["age:FP64", "sex:FP64"],
      ),
  },
];

test("v2 answers as the Open Inference Protocol says, case by case, each citing the spec", async () => {
  const failures: string[] = [];
  const cases = v2Cases();
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    const endpoint = c.path.includes("enet-blue") ? "enet" : "tensors";
    const a = await send(endpoint, c.path, c.body);
    try {
      assert.equal(a.status, c.status, `status (${a.text.slice(0, 200)})`);
      c.check?.(a);
    } catch (error) {
      failures.push(`${c.name} [${c.source}]: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});
