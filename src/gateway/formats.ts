/**
 * Request and response formats, each route speaking its own protocol, every request turned into what
 * the model takes (model/requests.ts: named records for column models, tensors for tensor models,
 * records or rows for models that declare nothing):
 * - Azure /score: {"input_data": split | records | rows | {name: tensor}}, a bare list, the legacy {"data": …}
 * - MLflow /invocations, as mlflow/pyfunc/scoring_server/__init__.py parses it: exactly one of
 *   dataframe_split, dataframe_records, instances, inputs (plus params), or text/csv
 * - Open Inference Protocol v2: {"id"?, "inputs": [{name, shape, datatype, data}], "outputs"?: [{name}]}
 * Bodies are JSON as Python writes it (NaN and Infinity are numbers).
 */
import { parse as parseCsv } from "csv-parse/sync";
import {
  type ColumnSpec,
  castColumns,
  checkTensors,
  dtypeOfV2,
  elementCount,
  enforceColumns,
  fromNested,
  type ModelInterface,
  type ModelRequest,
  requestRows,
  rowsToRecords,
  type TensorData,
  type TensorInputs,
  tensorsFromRecords,
  tensorsFromRows,
  tensorsFromValue,
  V2_DATATYPES,
  v2Datatype,
} from "../model/index.js";
import type { AnswerView, InvokeRequest } from "../runtime/index.js";
import { PierError, parseJson } from "../shared/index.js";
import { badRequest, HttpError } from "./http-error.js";

type Json = unknown;

/** Which protocol a request came in: Azure's /score, MLflow's /invocations, or the Open Inference Protocol. */
export type Protocol = "score" | "invocations" | "v2";

/** A request as the instance takes it, and what the gateway keeps of it to answer. */
export interface Batch {
  request: InvokeRequest;
  rows: number;
  /** The body held NaN or Infinity (so the instance gets them as Python writes them). */
  nonFinite: boolean;
  /** v2: the request's id, echoed in the answer. */
  id?: string;
  /** params sent that the model declares no schema for, and so were dropped (MLflow's warning). */
  ignoredParams?: string[];
}

/** What a request came as, before it meets the model: rows of values, row objects, or a tensor value. */
type Shaped =
  | { rows: Json[][]; view: AnswerView; positional: "split" | "tf" | "score" }
  | { records: Record<string, Json>[]; view: AnswerView }
  | { value: Json; view: AnswerView };

const isObject = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

const MLFLOW_KEYS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

/** mlflow/pyfunc/scoring_server/__init__.py: SCORING_PROTOCOL_CHANGE_INFO */
const PROTOCOL_CHANGE =
  "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this error, you are likely using an outdated scoring request format. To resolve the error, either update your request format or adjust your MLflow Model's requirements file to specify an older version of MLflow (for example, change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in order to use the new request format. For more information about the updated MLflow Model scoring protocol in MLflow 2.0, see https://mlflow.org/docs/latest/models.html#deploy-mlflow-models.";
const REQUIRED_INPUT_FORMAT =
  "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";
/** mlflow/utils/proto_json_utils.py, MlflowInvalidInputException: `super().__init__(f"Invalid input. {message}", error_code=BAD_REQUEST)` */
const invalidInput = (message: string) => badRequest("BadRequest", `Invalid input. ${message}`);

function fromColumns(columns: Record<string, Json>): Record<string, Json>[] {
  const lists = Object.entries(columns);
  const length = Array.isArray(lists[0]?.[1]) ? (lists[0]![1] as Json[]).length : 1;
  for (const [name, values] of lists) {
    if (Array.isArray(values) ? values.length !== length : length !== 1)
      throw badRequest("BadShape", `column '${name}' does not have ${length} values`);
  }
  return Array.from({ length }, (_, i) =>
    Object.fromEntries(lists.map(([name, values]) => [name, Array.isArray(values) ? values[i] : values])),
  );
}

/** A pandas split-oriented frame ({columns?, data, index?}) as records, or rows without columns. */
function fromSplit(split: Record<string, Json>, view: AnswerView, strict: boolean): Shaped {
  if (strict) {
    const extra = Object.keys(split).filter((k) => !["columns", "data", "index"].includes(k));
    if (!("data" in split) || extra.length > 0)
      throw invalidInput(
        `Dataframe split format must have 'data' field and optionally 'columns' and 'index' fields. Got {${Object.keys(
          split,
        )
          .map((k) => `'${k}'`)
          .join(", ")}}.'`,
      );
  }
  const { columns, data } = split;
  if (!Array.isArray(data)) throw badRequest("BadRequest", "split orientation needs a 'data' list of rows");
  if (!Array.isArray(columns)) return { rows: data as Json[][], view, positional: "split" };
  return {
    records: data.map((row, i) => {
      if (!Array.isArray(row) || row.length !== columns.length)
        throw badRequest("BadShape", `data row ${i} does not have ${columns.length} values`);
      return Object.fromEntries(columns.map((c, j) => [String(c), row[j]]));
    }),
    view,
  };
}

/** A list: row objects, or rows of values (a tensor, for a tensor model). */
function fromList(list: Json[], view: AnswerView, positional: "tf" | "score"): Shaped {
  if (list.length > 0 && list.every(isObject))
    return { records: list as Record<string, Json>[], view: "records" };
  if (list.every(Array.isArray)) return { rows: list as Json[][], view, positional };
  return { value: list, view };
}

/** Azure's /score body. */
function shapeScoreBody(body: Json, columns: readonly ColumnSpec[] | null): Shaped {
  if (Array.isArray(body)) return fromList(body, "score", "score");
  if (!isObject(body)) throw badRequest("BadRequest", "The request body must be a JSON object or list");
  const input = "input_data" in body ? body.input_data : "data" in body ? body.data : undefined;
  if (input === undefined) {
    const names = columns?.map((c) => String(c.name)) ?? [];
    if (names.length > 0 && Object.keys(body).some((k) => names.includes(k)))
      return { records: [body], view: "records" };
    throw badRequest("MissingInputData", "A value is not provided for the 'input_data' parameter.");
  }
  if (Array.isArray(input)) return fromList(input, "score", "score");
  if (isObject(input)) {
    if ("data" in input && ("columns" in input || "index" in input || Object.keys(input).length === 1))
      return fromSplit(input, "records", false);
    return { value: input, view: "score" };
  }
  throw badRequest(
    "BadRequest",
    "'input_data' must be a split-oriented object, a list of rows or records, or a dict of named inputs",
  );
}

/** MLflow's /invocations JSON body (infer_and_parse_data). */
function shapeInvocationsBody(body: Json): Shaped {
  if (!isObject(body)) {
    throw invalidInput(
      `${REQUIRED_INPUT_FORMAT}. ${Array.isArray(body) ? "Received a list." : `Received unexpected input type '${body === null ? "<class 'NoneType'>" : `<class '${typeof body === "string" ? "str" : typeof body === "number" ? (Number.isInteger(body) ? "int" : "float") : "bool"}'>`}.`}`,
    );
  }
  const present = MLFLOW_KEYS.filter((k) => k in body);
  if (present.length !== 1) {
    throw badRequest(
      "BadRequest",
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: [${Object.keys(body)
        .map((k) => `'${k}'`)
        .join(", ")}]. ${PROTOCOL_CHANGE}`,
    );
  }
  const key = present[0]!;
  const value = body[key];
  if (key === "dataframe_split") {
    if (!isObject(value))
      throw invalidInput(
        `Dataframe split format must be a dictionary. Got ${Array.isArray(value) ? "list" : `type ${typeof value}`}.`,
      );
    return fromSplit(value, "records", true);
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

/** A column model's request: named records, cast and checked by the signature. */
function columnRequest(protocol: Protocol, shaped: Shaped, columns: readonly ColumnSpec[]): ModelRequest {
  let records: Record<string, Json>[];
  if ("records" in shaped) records = shaped.records;
  else if ("value" in shaped) {
    if (isObject(shaped.value)) records = fromColumns(shaped.value);
    else if (Array.isArray(shaped.value) && columns.length === 1)
      records = shaped.value.map((v) => ({ [String(columns[0]!.name)]: v }));
    else
      throw invalidInput(
        `Failed to convert data \`${JSON.stringify(shaped.value)?.slice(0, 80)}\` to type \`${columns[0]?.type}\` defined in the model signature.`,
      );
  } else if (protocol === "invocations") {
    // MLflow does not map positional values onto named columns: a frame without column names has
    // columns 0, 1, …, which are not the model's, so the named columns are missing
    // (mlflow/models/utils.py, _enforce_named_col_schema). A single-column schema takes a list.
    if (shaped.positional === "tf" && columns.length === 1)
      records = shaped.rows.map((v) => ({ [String(columns[0]!.name)]: v }));
    else
      records = shaped.rows.map((row) =>
        Object.fromEntries((Array.isArray(row) ? row : [row]).map((v, i) => [String(i), v])),
      );
  } else records = rowsToRecords(shaped.rows, columns);
  return { records: enforceColumns(castColumns(records, columns), columns) };
}

/** A tensor model's request: the forms mapped onto its tensors, each checked against its declaration. */
function tensorRequest(shaped: Shaped, inputs: TensorInputs): ModelRequest {
  const tensors =
    "records" in shaped
      ? tensorsFromRecords(inputs, shaped.records)
      : "rows" in shaped
        ? tensorsFromRows(inputs, shaped.rows)
        : tensorsFromValue(inputs, shaped.value);
  return { tensors: checkTensors(inputs, tensors) };
}

/** A model that declares nothing gets records or rows as they came. */
function anyRequest(shaped: Shaped): ModelRequest {
  if ("records" in shaped) return { records: shaped.records };
  if ("rows" in shaped) return { rows: shaped.rows };
  if (isObject(shaped.value)) return { records: fromColumns(shaped.value) };
  return { rows: (shaped.value as Json[]).map((v) => (Array.isArray(v) ? v : [v])) };
}

interface V2Input {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
}

/** Which v2 datatypes a column of each MLflow type takes (conversions that lose nothing). */
const V2_FOR_COLUMN: Record<string, readonly string[]> = {
  double: ["FP64", "FP32", "FP16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"],
  float: ["FP32", "FP16", "INT8", "INT16", "UINT8", "UINT16"],
  long: ["INT64", "INT32", "INT16", "INT8", "UINT8", "UINT16", "UINT32"],
  integer: ["INT32", "INT16", "INT8", "UINT8", "UINT16"],
  boolean: ["BOOL"],
  string: ["BYTES"],
  binary: ["BYTES"],
  datetime: ["BYTES"],
};

/** An Open Inference Protocol request's inputs, each checked for a name, a shape, a known datatype and data of that shape. */
function v2Tensors(body: Json): {
  inputs: { name: string; datatype: string; tensor: TensorData }[];
  id?: string;
  outputs?: string[];
} {
  if (!isObject(body) || !Array.isArray(body.inputs) || body.inputs.length === 0)
    throw badRequest(
      "BadRequest",
      "A v2 inference request needs an 'inputs' list of {name, shape, datatype, data}",
    );
  if (body.id !== undefined && typeof body.id !== "string")
    throw badRequest("BadRequest", "'id' must be a string");
  let outputs: string[] | undefined;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs) || !body.outputs.every((o) => isObject(o) && typeof o.name === "string"))
      throw badRequest("BadRequest", "'outputs' must be a list of {name}");
    outputs = body.outputs.map((o) => (o as { name: string }).name);
  }
  const inputs = (body.inputs as V2Input[]).map((input, i) => {
    if (!isObject(input) || typeof input.name !== "string")
      throw badRequest("BadRequest", `inputs[${i}] has no 'name'`);
    const name = input.name;
    if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
      throw badRequest("BadShape", `input '${name}' needs a 'shape': a list of non-negative integers`);
    if (typeof input.datatype !== "string")
      throw badRequest("InvalidDatatype", `input '${name}' has no 'datatype'`);
    if (!V2_DATATYPES.has(input.datatype))
      throw badRequest(
        "InvalidDatatype",
        `input '${name}' has datatype '${input.datatype}', which is not one of the protocol's: ${[...V2_DATATYPES].join(", ")}`,
      );
    if (!Array.isArray(input.data)) throw badRequest("BadRequest", `input '${name}' needs 'data': a list`);
    const shape = input.shape as number[];
    const flat = fromNested(input.data);
    if ("problem" in flat) throw badRequest("BadShape", `input '${name}': ${flat.problem}`);
    if (flat.data.length !== elementCount(shape))
      throw badRequest(
        "BadShape",
        `input '${name}' has shape [${shape.join(", ")}] (${elementCount(shape)} elements) but ${flat.data.length} values in 'data'`,
      );
    return { name, datatype: input.datatype, tensor: { shape, data: flat.data } };
  });
  return { inputs, ...(typeof body.id === "string" ? { id: body.id } : {}), ...(outputs ? { outputs } : {}) };
}

function v2Request(
  body: Json,
  iface: ModelInterface,
): { request: ModelRequest; id?: string; outputs?: string[] } {
  const { inputs, id, outputs } = v2Tensors(body);
  if (outputs && iface.outputs) {
    const unknown = outputs.filter((o) => !iface.outputs!.some((d) => d.name === o));
    if (unknown.length > 0)
      throw badRequest(
        "UnknownOutput",
        `unknown output name(s) ${unknown.map((u) => `'${u}'`).join(", ")}; the model's outputs: ${iface.outputs.map((o) => o.name).join(", ")}`,
      );
  }
  const spec = iface.inputs;
  if (spec.kind === "tensors") {
    const byName = inputs.map((input) => {
      const decl =
        spec.tensors.find((t) => t.name === input.name) ??
        (!spec.named && inputs.length === 1 ? spec.tensors[0] : undefined);
      if (!decl)
        throw badRequest(
          "UnknownInput",
          `unexpected inference input '${input.name}' for model; its inputs are ${spec.tensors.map((t) => `'${t.name}'`).join(", ")}`,
        );
      if (dtypeOfV2(input.datatype) !== decl.dtype)
        throw badRequest(
          "InputTypeMismatch",
          `input '${input.name}' has datatype ${input.datatype}; the model takes ${v2Datatype(decl.dtype)}`,
        );
      return [decl.name, input.tensor] as const;
    });
    return { request: { tensors: checkTensors(spec, Object.fromEntries(byName)) }, id, outputs };
  }
  // Column models and models that declare nothing: one input per column, shape [N] or [N, 1].
  const n = inputs[0]!.tensor.shape[0] ?? 0;
  for (const { name, datatype, tensor } of inputs) {
    if (tensor.shape[0] !== n || tensor.shape.slice(1).some((d) => d !== 1))
      throw badRequest(
        "BadShape",
        `input '${name}' has shape [${tensor.shape.join(", ")}]; this model takes one column per input, shape [${n}] or [${n}, 1]`,
      );
    if (spec.kind === "columns") {
      const column = spec.columns.find((c) => String(c.name) === name);
      if (!column)
        throw badRequest(
          "UnknownInput",
          `unexpected inference input '${name}' for model; its inputs are ${spec.columns.map((c) => `'${c.name}'`).join(", ")}`,
        );
      if (!(V2_FOR_COLUMN[column.type] ?? []).includes(datatype))
        throw badRequest(
          "InputTypeMismatch",
          `input '${name}' has datatype ${datatype}; the model's column is ${column.type} (${V2_FOR_COLUMN[column.type]?.[0] ?? "BYTES"})`,
        );
    }
  }
  const records = Array.from({ length: n }, (_, i) =>
    Object.fromEntries(inputs.map(({ name, tensor }) => [name, tensor.data[i]])),
  );
  return {
    request: { records: spec.kind === "columns" ? enforceColumns(records, spec.columns) : records },
    id,
    outputs,
  };
}

function unsupportedMediaType(message: string): HttpError {
  return new HttpError("UnsupportedMediaType", message);
}

/**
 * The content type, checked as each protocol checks it: MLflow's /invocations takes application/json
 * or text/csv with at most a UTF-8 charset (mlflow/pyfunc/scoring_server/__init__.py, invocations());
 * /score and v2 take JSON.
 */
function contentTypeOf(protocol: Protocol, header: string | undefined): "json" | "csv" {
  const [mime = "", ...parameters] = (header ?? "application/json").split(";").map((p) => p.trim());
  const type = mime.toLowerCase();
  if (protocol === "invocations") {
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
    if (type === "text/csv") return "csv";
    if (type === "application/json") return "json";
    throw unsupportedMediaType(
      `This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${header ?? ""}'.`,
    );
  }
  if (type !== "application/json" && header !== undefined)
    throw unsupportedMediaType(
      `This predictor only supports the following content types: application/json. Got '${header}'.`,
    );
  return "json";
}

/** The model's params schema names, or null when it declares none. */
export type ParamNames = readonly string[] | null;

/** The request body as what the model takes, by protocol and content type; a 4xx for anything it cannot read. */
export function parseRequest(
  protocol: Protocol,
  contentTypeHeader: string | undefined,
  body: Buffer,
  iface: ModelInterface,
  paramNames: ParamNames,
): Batch {
  const kind = contentTypeOf(protocol, contentTypeHeader);
  const text = body.toString("utf8");
  let json: Json = null;
  let nonFinite = false;
  if (kind === "json") {
    try {
      ({ value: json, nonFinite } = parseJson(text));
    } catch (error) {
      throw new HttpError(
        "InvalidJson",
        `Invalid input. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message}'`,
      );
    }
  }
  // Values cast from text ("nan" in a double column) can be non-finite too.
  nonFinite ||= /nan|inf/i.test(text);
  if (protocol === "v2") {
    const { request, id, outputs } = v2Request(json, iface);
    return {
      request: { ...request, view: "v2", ...(outputs ? { outputs } : {}) },
      rows: requestRows(request),
      nonFinite,
      ...(id !== undefined ? { id } : {}),
    };
  }
  const spec = iface.inputs;
  const shaped =
    kind === "csv"
      ? shapeCsvBody(text)
      : protocol === "score"
        ? shapeScoreBody(json, spec.kind === "columns" ? spec.columns : null)
        : shapeInvocationsBody(json);
  const empty =
    ("rows" in shaped && shaped.rows.length === 0) ||
    ("records" in shaped && shaped.records.length === 0) ||
    ("value" in shaped && Array.isArray(shaped.value) && shaped.value.length === 0);
  if (empty) throw new HttpError("EmptyInput", "The request has no rows to score");
  let request: ModelRequest;
  try {
    request =
      spec.kind === "columns"
        ? columnRequest(protocol, shaped, spec.columns)
        : spec.kind === "tensors"
          ? tensorRequest(shaped, spec)
          : anyRequest(shaped);
  } catch (error) {
    // MLflow casts CSV columns as pandas reads them (pd.read_csv(…, dtype=dtypes)), so a cell that
    // cannot be cast fails the parse itself (mlflow/pyfunc/scoring_server/__init__.py, parse_csv_input).
    if (kind === "csv" && error instanceof PierError && error.code === "InputConversionFailed")
      throw badRequest(
        "InputConversionFailed",
        `${CSV_PARSE_FAILED} Error: '${/Error: '(?:\w+\(")?(.*?)(?:"\))?'$/.exec(error.summary)?.[1] ?? error.summary}'`,
      );
    throw error;
  }
  // A column model answers a DataFrame: one object per row, whatever form the rows came in.
  const view = spec.kind === "tensors" ? shaped.view : "records";
  const batch: Batch = { request: { ...request, view }, rows: requestRows(request), nonFinite };
  const params = isObject(json) ? json.params : undefined;
  if (isObject(params)) {
    // MLflow passes params only to a model whose signature declares them; others are dropped with a
    // warning (mlflow/pyfunc/__init__.py, _validate_params).
    if (paramNames)
      batch.request.params = Object.fromEntries(
        Object.entries(params).filter(([k]) => paramNames.includes(k)),
      );
    const ignored = Object.keys(params).filter((k) => !paramNames?.includes(k));
    if (ignored.length > 0) batch.ignoredParams = ignored;
  }
  return batch;
}

const V2_TYPES: Record<string, string> = { number: "FP64", string: "BYTES", boolean: "BOOL" };

/** Prediction rows of a model that answers with its own values (the Python host) → v2 outputs. */
function v2OutputsOfRows(
  predictions: Json,
): { name: string; shape: number[]; datatype: string; data: Json[] }[] {
  if (!Array.isArray(predictions)) predictions = [predictions];
  const list = predictions as Json[];
  if (!list.every(isObject)) {
    // A list (or nested list) of values: one output.
    const tensor = fromNested(list);
    const data = "problem" in tensor ? list : tensor.data;
    const shape = "problem" in tensor ? [list.length] : tensor.shape;
    const sample = data[0];
    const datatype =
      typeof sample === "number" && Number.isInteger(sample) && data.every((v) => Number.isInteger(v))
        ? "INT64"
        : (V2_TYPES[typeof sample] ?? "BYTES");
    return [{ name: "predict", shape, datatype, data }];
  }
  const rows = list as Record<string, Json>[];
  const names = rows.length > 0 ? Object.keys(rows[0]!) : [];
  return names.map((name) => {
    const first = rows[0]![name];
    const width = Array.isArray(first) ? first.length : 0;
    const data = rows.flatMap((r) => (Array.isArray(r[name]) ? (r[name] as Json[]) : [r[name]]));
    const sample = Array.isArray(first) ? first[0] : first;
    const datatype =
      typeof sample === "number" && data.every((v) => Number.isInteger(v))
        ? "INT64"
        : (V2_TYPES[typeof sample] ?? "BYTES");
    return { name, shape: width ? [rows.length, width] : [rows.length], datatype, data };
  });
}

/** How the instance answered: output tensors already in the request's view (ONNX), or the model's own values (Python). */
export type AnswerKind = "view" | "values";

/**
 * The response body. An answer already in the request's view passes through untouched; the model's
 * own values are wrapped as each protocol wants.
 */
export function formatResponse(
  protocol: Protocol,
  predictions: string,
  answer: AnswerKind,
  v2: { modelName: string; modelVersion: string; id?: string; outputs?: string[] },
): string {
  if (protocol === "invocations") return `{"predictions":${predictions}}`;
  if (protocol === "v2") {
    let outputs = predictions;
    if (answer === "values") {
      const all = v2OutputsOfRows(JSON.parse(predictions));
      outputs = JSON.stringify(v2.outputs ? all.filter((o) => v2.outputs!.includes(o.name)) : all);
    }
    return `{"model_name":${JSON.stringify(v2.modelName)},"model_version":${JSON.stringify(v2.modelVersion)}${v2.id !== undefined ? `,"id":${JSON.stringify(v2.id)}` : ""},"outputs":${outputs}}`;
  }
  return predictions;
}
