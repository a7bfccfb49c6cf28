/**
 * MLflow's scoring server (`mlflow models serve`), as mlflow/pyfunc/scoring_server/__init__.py answers:
 * - POST /invocations: exactly one of dataframe_split, dataframe_records, instances, inputs (plus
 *   params) as application/json, or text/csv with a header row; answers {"predictions": …};
 * - GET /ping and /health ("\n"), /version (the MLflow version the model was saved with);
 * - errors {"error_code", "message", "stack_trace"?} with the codes of mlflow/protos/databricks_pb2 and
 *   their HTTP statuses (mlflow/exceptions.py), 415 as text/plain, and a model's own exception as 400
 *   BAD_REQUEST with its stack trace ("Encountered an unexpected error while evaluating the model…").
 */
import { parse as parseCsv } from "csv-parse/sync";
import { PIER_VERSION, PierError } from "../../shared/index.js";
import { badRequest, HttpError } from "../http-error.js";
import type { ErrorResponse, ProtocolAdapter, ProtocolRoute } from "../protocol.js";
import { batchOf, fromList, fromSplit, isObject, type Json, parseBodyJson, type Shaped } from "../shapes.js";

const MLFLOW_KEYS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

/** mlflow/pyfunc/scoring_server/__init__.py: SCORING_PROTOCOL_CHANGE_INFO */
const PROTOCOL_CHANGE =
  "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, you are likely using an outdated scoring request format. To resolve the error, either update your request format or adjust your MLflow Model's requirements file to specify an older version of MLflow (for example, change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use the new request format. For more information about the updated MLflow Model scoring protocol in MLflow 2.0, see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.";
const REQUIRED_INPUT_FORMAT =
  "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";
/** mlflow/utils/proto_json_utils.py, MlflowInvalidInputException: `super().__init__(f"Invalid input. {message}", error_code=BAD_REQUEST)` */
const invalidInput = (message: string) => badRequest("BadRequest", `Invalid input. ${message}`);

/** A Python type name as MLflow's messages print it. */
function pythonType(value: Json): string {
  if (value === null) return "<class 'NoneType'>";
  if (typeof value === "string") return "<class 'str'>";
  if (typeof value === "number") return Number.isInteger(value) ? "<class 'int'>" : "<class 'float'>";
  return "<class 'bool'>";
}

/** MLflow's /invocations JSON body (infer_and_parse_data). */
function shapeInvocationsBody(body: Json): Shaped {
  if (!isObject(body))
    throw invalidInput(
      `${REQUIRED_INPUT_FORMAT}. ${Array.isArray(body) ? "Received a list." : `Received unexpected input type '${pythonType(body)}'.`}`,
    );
  const present = MLFLOW_KEYS.filter((k) => k in body);
  if (present.length !== 1)
    throw badRequest(
      "BadRequest",
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: [${Object.keys(body)
        .map((k) => `'${k}'`)
        .join(", ")}]. ${PROTOCOL_CHANGE}`,
    );
  const key = present[0]!;
  const value = body[key];
  if (key === "dataframe_split") {
    if (!isObject(value))
      throw invalidInput(
        `Dataframe split format must be a dictionary. Got ${Array.isArray(value) ? "list" : `type ${typeof value}`}.`,
      );
    const extra = Object.keys(value).filter((k) => !["columns", "data", "index"].includes(k));
    if (!("data" in value) || extra.length > 0)
      throw invalidInput(
        `Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {${Object.keys(
          value,
        )
          .map((k) => `'${k}'`)
          .join(", ")}}.'`,
      );
    try {
      return fromSplit(value, "records");
    } catch (error) {
      // pd.DataFrame(index=…, columns=…, data=…) refused it (mlflow/utils/proto_json_utils.py).
      throw invalidInput(
        `Provided dataframe_split field is not a valid dataframe representation in 'split' format. Error: '${(error as Error).message}'`,
      );
    }
  }
  if (key === "dataframe_records") {
    if (!Array.isArray(value))
      throw invalidInput(
        `Dataframe records format must be a list of records. Got ${isObject(value) ? "dictionary" : `type ${typeof value}`}.`,
      );
    // pandas makes a frame of lists too, with columns 0, 1, …
    if (value.length > 0 && value.every(Array.isArray))
      return { rows: value as Json[][], view: "records", positional: "split" };
    if (!value.every(isObject))
      throw invalidInput(
        "Provided dataframe_records field is not a valid dataframe representation in 'records' format.",
      );
    return { records: value as Record<string, Json>[], view: "records" };
  }
  if (key === "instances") {
    if (!Array.isArray(value)) throw invalidInput("Ensure that the input is a valid JSON-formatted string.");
    return fromList(value, "tensors", "tf");
  }
  // inputs: columnar (a dict) or a tensor (a list)
  return Array.isArray(value) ? fromList(value, "tensors", "tf") : { value, view: "tensors" };
}

/** mlflow/pyfunc/scoring_server/__init__.py, parse_csv_input */
const CSV_PARSE_FAILED =
  "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method.";

/** text/csv with a header row; numbers are read as numbers, empty cells as missing. */
function shapeCsvBody(text: string): Shaped {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw badRequest("BadRequest", `${CSV_PARSE_FAILED} Error: '${(error as Error).message}'`);
  }
  if (rows.length === 0)
    throw badRequest("BadRequest", `${CSV_PARSE_FAILED} Error: 'No columns to parse from file'`);
  const records = rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v === "" ? null : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : v,
      ]),
    ),
  );
  return { records, view: "records" };
}

const unsupportedMediaType = (message: string) => new HttpError("UnsupportedMediaType", message);

/**
 * The content type as invocations() checks it: application/json or text/csv, with at most a UTF-8
 * charset.
 */
function contentTypeOf(header: string | undefined): "json" | "csv" {
  const [mime = "", ...parameters] = (header ?? "application/json").split(";").map((p) => p.trim());
  const values = Object.fromEntries(
    parameters.filter(Boolean).map((p) => {
      const at = p.indexOf("=");
      return at < 0 ? [p.toLowerCase(), ""] : [p.slice(0, at).trim().toLowerCase(), p.slice(at + 1).trim()];
    }),
  );
  if ((values.charset ?? "utf-8").toLowerCase().replace(/^"|"$/g, "") !== "utf-8")
    throw unsupportedMediaType("The scoring server only supports UTF-8");
  const unexpected = Object.keys(values).filter((k) => k !== "charset");
  if (unexpected.length > 0)
    throw unsupportedMediaType(
      `Unrecognized content type parameters: ${unexpected.join(", ")}. ${PROTOCOL_CHANGE}`,
    );
  const type = mime.toLowerCase();
  if (type === "text/csv") return "csv";
  if (type === "application/json") return "json";
  throw unsupportedMediaType(
    `This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${header ?? ""}'.`,
  );
}

/** MLflow's error code for each status pier answers with. */
const MLFLOW_CODES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "ENDPOINT_NOT_FOUND",
  405: "BAD_REQUEST",
  408: "DEADLINE_EXCEEDED",
  409: "RESOURCE_CONFLICT",
  413: "BAD_REQUEST",
  429: "REQUEST_LIMIT_EXCEEDED",
  503: "TEMPORARILY_UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Schema enforcement failures: MLflow raises them as INVALID_PARAMETER_VALUE (mlflow/models/utils.py, _enforce_schema). */
const SCHEMA_CODES = new Set([
  "MissingInputs",
  "IncompatibleInputTypes",
  "InputShapeMismatch",
  "InputTypeMismatch",
]);

const INVOCATIONS: ProtocolRoute = { access: "infer", anyMethodForScripts: false };
const GET = ["GET", "HEAD"] as const;
const PING: ProtocolRoute = { access: "open", methods: GET, answer: () => ({ status: 200, body: "\n" }) };
/** MLflow's /version gives the MLflow version serving; pier gives the one the model was saved with. */
const VERSION: ProtocolRoute = {
  access: "open",
  methods: GET,
  answer: (endpoint, routing) => ({
    status: 200,
    body:
      routing
        .targets()
        .filter((t) => t.endpoint === endpoint.name)
        .map((t) => t.mlflowVersion)
        .find((v) => v) ?? `pier ${PIER_VERSION}`,
    headers: { "content-type": "text/plain" },
  }),
};

export const mlflow: ProtocolAdapter = {
  name: "invocations",
  match: (rest) =>
    rest === "invocations"
      ? INVOCATIONS
      : rest === "ping" || rest === "health"
        ? PING
        : rest === "version"
          ? VERSION
          : undefined,
  parse(contentType, body, iface, paramNames) {
    const kind = contentTypeOf(contentType);
    const text = body.toString("utf8");
    const { json, nonFinite } =
      kind === "json" ? parseBodyJson(text) : { json: null as Json, nonFinite: false };
    const shaped = kind === "csv" ? shapeCsvBody(text) : shapeInvocationsBody(json);
    try {
      return batchOf(
        { shaped, json, nonFinite: nonFinite || /nan|inf/i.test(text) },
        iface,
        paramNames,
        "numbered",
      );
    } catch (error) {
      // MLflow casts CSV columns as pandas reads them (pd.read_csv(…, dtype=dtypes)), so a cell that
      // cannot be cast fails the parse itself (parse_csv_input).
      if (kind === "csv" && error instanceof PierError && error.code === "InputConversionFailed")
        throw badRequest(
          "InputConversionFailed",
          `${CSV_PARSE_FAILED} Error: '${/Error: '(?:\w+\(")?(.*?)(?:"\))?'$/.exec(error.summary)?.[1] ?? error.summary}'`,
        );
      throw error;
    }
  },
  format: (predictions) => `{"predictions":${predictions}}`,
  renderError(e): ErrorResponse {
    const headers = { ...e.headers, "x-pier-error-code": e.code };
    if (e.status === 415)
      return { status: 415, body: e.message, headers: { ...headers, "content-type": "text/plain" } };
    if (e.code === "ModelError")
      return {
        status: 400,
        body: JSON.stringify({
          error_code: "BAD_REQUEST",
          message:
            "Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the model for inference.",
          stack_trace: e.extra.trace ?? e.message,
        }),
        headers,
      };
    const schema = SCHEMA_CODES.has(e.code);
    return {
      status: e.status,
      body: JSON.stringify({
        error_code: schema ? "INVALID_PARAMETER_VALUE" : (MLFLOW_CODES[e.status] ?? "INTERNAL_ERROR"),
        message: schema
          ? `Failed to predict data. \nError: Failed to enforce schema of data with the model's input schema. Error: ${e.message}`
          : e.message,
      }),
      headers,
    };
  },
};
