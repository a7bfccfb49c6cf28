/**
 * Request and response formats, requests all turned into column records:
 * - Azure /score: {"input_data": split | records | rows | {col: [..]}}, a bare list, the legacy {"data": [[…]]}
 * - MLflow /invocations: exactly one of dataframe_split, dataframe_records, instances, inputs; or text/csv
 * - Open Inference Protocol v2: {"inputs": [{name, shape, datatype, data}]}
 */
import { parse as parseCsv } from "csv-parse/sync";
import { type ColumnSpec, rowsToRecords } from "../model/index.js";
import { badRequest, HttpError } from "./http-error.js";

type Json = unknown;

/** What a request holds: named records, or positional rows for a model without a column signature. */
export type Parsed = { records: Record<string, Json>[] } | { rows: Json[][] };

/** A request as the instance takes it: records or positional rows, and optional params. */
export type Batch = Parsed & { params?: Record<string, unknown> };

/** Which protocol a request came in: Azure's /score, MLflow's /invocations, or the Open Inference Protocol. */
export type Protocol = "score" | "invocations" | "v2";

export const batchSize = (batch: Batch): number =>
  "records" in batch ? batch.records.length : batch.rows.length;

const records = (list: Record<string, Json>[]): Parsed => ({ records: list });

/** Positional rows become records when the signature names the columns, and stay rows otherwise. */
function positional(rows: Json[][], columns: readonly ColumnSpec[] | null): Parsed {
  return columns ? records(rowsToRecords(rows, columns)) : { rows };
}
const isObject = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function fromSplit(split: Record<string, Json>, signature: readonly ColumnSpec[] | null): Parsed {
  const { columns, data } = split;
  if (!Array.isArray(data)) throw badRequest("BadRequest", "split orientation needs a 'data' list of rows");
  if (!Array.isArray(columns)) return positional(data as Json[][], signature);
  return records(
    data.map((row, i) => {
      if (!Array.isArray(row) || row.length !== columns.length)
        throw badRequest("BadShape", `data row ${i} does not have ${columns.length} values`);
      return Object.fromEntries(columns.map((c, j) => [String(c), row[j]]));
    }),
  );
}

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

/** A list: row objects (records) or positional rows. */
function fromList(list: Json[], columns: readonly ColumnSpec[] | null): Parsed {
  if (list.length === 0) return records([]);
  if (list.every(isObject)) return records(list as Record<string, Json>[]);
  if (list.every(Array.isArray)) return positional(list as Json[][], columns);
  throw badRequest("BadRequest", "a list must hold either row objects or rows of values, not a mix");
}

/** Azure's /score body. */
export function parseScoreBody(body: Json, columns: readonly ColumnSpec[] | null): Parsed {
  if (Array.isArray(body)) return fromList(body, columns);
  if (!isObject(body)) throw badRequest("BadRequest", "The request body must be a JSON object or list");
  const input = "input_data" in body ? body.input_data : "data" in body ? body.data : undefined;
  if (input === undefined) {
    const names = columns?.map((c) => String(c.name)) ?? [];
    if (names.length > 0 && Object.keys(body).some((k) => names.includes(k))) return records([body]);
    throw badRequest("MissingInputData", "A value is not provided for the 'input_data' parameter.");
  }
  if (Array.isArray(input)) return fromList(input, columns);
  if (isObject(input)) return "data" in input ? fromSplit(input, columns) : records(fromColumns(input));
  throw badRequest(
    "BadRequest",
    "'input_data' must be a split-oriented object, a list of rows or records, or a dict of columns",
  );
}

const MLFLOW_KEYS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

/** MLflow's /invocations body (JSON). */
export function parseInvocationsBody(body: Json, columns: readonly ColumnSpec[] | null): Parsed {
  const present = isObject(body) ? MLFLOW_KEYS.filter((k) => k in body) : [];
  if (!isObject(body) || present.length !== 1) {
    throw badRequest(
      "BadRequest",
      `The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. Received dictionary with input fields: ${JSON.stringify(isObject(body) ? Object.keys(body) : [])}. IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0.`,
    );
  }
  const key = present[0]!;
  const value = body[key];
  if (key === "dataframe_split") {
    if (!isObject(value))
      throw badRequest("BadRequest", "dataframe_split must be an object with columns and data");
    return fromSplit(value, columns);
  }
  if (key === "dataframe_records") {
    if (!Array.isArray(value) || !value.every(isObject))
      throw badRequest("BadRequest", "dataframe_records must be a list of row objects");
    return records(value as Record<string, Json>[]);
  }
  if (Array.isArray(value)) return fromList(value, columns);
  if (isObject(value)) return records(fromColumns(value));
  throw badRequest("BadRequest", `${key} must be a list or a dict of columns`);
}

/** text/csv with a header row; numbers are read as numbers, empty cells as missing. */
export function parseCsvBody(text: string): Record<string, Json>[] {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  } catch (error) {
    throw badRequest("BadRequest", `Invalid CSV: ${(error as Error).message}`);
  }
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v === "" ? null : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : v,
      ]),
    ),
  );
}

interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  data: Json[];
}

/** Open Inference Protocol v2: one named input tensor per column, each of shape [N] or [N, 1]. */
export function parseV2Body(body: Json): Record<string, Json>[] {
  if (!isObject(body) || !Array.isArray(body.inputs) || body.inputs.length === 0) {
    throw badRequest(
      "BadRequest",
      "A v2 inference request needs an 'inputs' list of {name, shape, datatype, data}",
    );
  }
  const inputs = body.inputs as V2Input[];
  const n = inputs[0]!.shape?.[0];
  for (const input of inputs) {
    if (typeof input.name !== "string" || !Array.isArray(input.shape) || !Array.isArray(input.data)) {
      throw badRequest("BadRequest", "each v2 input needs name, shape and data");
    }
    const flat = input.data.flat(Number.POSITIVE_INFINITY);
    if (input.shape[0] !== n || flat.length !== n || input.shape.slice(1).some((d) => d !== 1)) {
      throw badRequest(
        "BadShape",
        `input '${input.name}' has shape ${JSON.stringify(input.shape)}; pier takes one column per input, shape [${n}] or [${n}, 1]`,
      );
    }
    input.data = flat;
  }
  return Array.from({ length: n ?? 0 }, (_, i) =>
    Object.fromEntries(inputs.map((input) => [input.name, input.data[i]])),
  );
}

const V2_TYPES: Record<string, string> = { number: "FP64", string: "BYTES", boolean: "BOOL" };

/** Prediction rows → v2 outputs, one tensor per output name. */
export function v2Outputs(
  rows: Record<string, Json>[],
): { name: string; shape: number[]; datatype: string; data: Json[] }[] {
  const names = rows.length > 0 ? Object.keys(rows[0]!) : [];
  return names.map((name) => {
    const first = rows[0]![name];
    const width = Array.isArray(first) ? first.length : 0;
    const data = rows.flatMap((r) => (Array.isArray(r[name]) ? (r[name] as Json[]) : [r[name]]));
    const sample = Array.isArray(first) ? first[0] : first;
    const datatype =
      name === "label" && typeof sample === "number" && Number.isInteger(sample)
        ? "INT64"
        : (V2_TYPES[typeof sample] ?? "BYTES");
    return { name, shape: width ? [rows.length, width] : [rows.length], datatype, data };
  });
}

function unsupportedMediaType(contentType: string, allowed: string): HttpError {
  return new HttpError(
    "UnsupportedMediaType",
    `This predictor only supports the following content types: ${allowed}. Got '${contentType}'.`,
  );
}

/** The request body as a batch, by protocol and content type; a 4xx for anything it cannot read. */
export function parseRequest(
  protocol: Protocol,
  contentTypeHeader: string | undefined,
  body: Buffer,
  columns: readonly ColumnSpec[] | null,
): Batch {
  const contentType = (contentTypeHeader ?? "application/json").split(";")[0]!.trim().toLowerCase();
  if (protocol === "invocations" && contentType === "text/csv")
    return { records: parseCsvBody(body.toString("utf8")) };
  if (contentType !== "application/json" && contentType !== "") {
    throw unsupportedMediaType(
      contentType,
      protocol === "invocations" ? "application/json, text/csv" : "application/json",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError("InvalidJson", "Invalid input. Ensure that input is a valid JSON formatted string.");
  }
  if (protocol === "v2") return { records: parseV2Body(json) };
  const parsed = protocol === "score" ? parseScoreBody(json, columns) : parseInvocationsBody(json, columns);
  const params = (json as { params?: unknown } | null)?.params;
  return params && typeof params === "object" && !Array.isArray(params)
    ? { ...parsed, params: params as Record<string, unknown> }
    : parsed;
}

/** The response body: the instance's JSON passes through untouched, wrapped as each protocol wants. */
export function formatResponse(protocol: Protocol, predictions: string, modelName: string): string {
  if (protocol === "invocations") return `{"predictions":${predictions}}`;
  if (protocol === "v2") {
    return JSON.stringify({
      model_name: modelName,
      outputs: v2Outputs(JSON.parse(predictions) as Record<string, unknown>[]),
    });
  }
  return predictions;
}
