/**
 * What every protocol's body turns into before it meets the model: rows of values, row objects, or a
 * tensor value (a Shaped), then the request the model takes (model/requests.ts): named records cast
 * and checked by the signature for column models, tensors checked by name, dtype and shape for tensor
 * models, records or rows as they came for models that declare nothing. Each protocol adapter
 * (protocols/) shapes its own body; what follows is shared.
 */
import {
  type ColumnSpec,
  castColumns,
  checkTensors,
  enforceColumns,
  type ModelInterface,
  type ModelRequest,
  requestRows,
  rowsToRecords,
  type TensorInputs,
  tensorsFromRecords,
  tensorsFromRows,
  tensorsFromValue,
} from "../model/index.js";
import type { AnswerView, InvokeRequest } from "../runtime/index.js";
import { parseJson } from "../shared/index.js";
import { badRequest, HttpError } from "./http-error.js";

export type Json = unknown;

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

/** The model's params schema names, or null when it declares none. */
export type ParamNames = readonly string[] | null;

/** What a request came as, before it meets the model: rows of values, row objects, or a tensor value. */
export type Shaped =
  | { rows: Json[][]; view: AnswerView; positional: "split" | "tf" | "score" }
  | { records: Record<string, Json>[]; view: AnswerView }
  | { value: Json; view: AnswerView };

export const isObject = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** A body's JSON as Python writes it (NaN and Infinity are numbers); MLflow's words when it is not JSON. */
export function parseBodyJson(text: string): { json: Json; nonFinite: boolean } {
  try {
    const { value, nonFinite } = parseJson(text);
    return { json: value, nonFinite };
  } catch (error) {
    throw new HttpError(
      "InvalidJson",
      `Invalid input. Ensure that input is a valid JSON formatted string. Error: '${(error as Error).message}'`,
    );
  }
}

/** A JSON-only protocol's check of the content type (a missing one is taken as JSON). */
export function requireJson(contentType: string | undefined): void {
  const mime = (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
  if (mime !== "application/json" && contentType !== undefined)
    throw new HttpError(
      "UnsupportedMediaType",
      `This predictor only supports the following content types: application/json. Got '${contentType}'.`,
    );
}

/** Columns as lists ({name: [values]}) as row objects. */
export function fromColumns(columns: Record<string, Json>): Record<string, Json>[] {
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
export function fromSplit(split: Record<string, Json>, view: AnswerView): Shaped {
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
export function fromList(list: Json[], view: AnswerView, positional: "tf" | "score"): Shaped {
  if (list.length > 0 && list.every(isObject))
    return { records: list as Record<string, Json>[], view: "records" };
  if (list.every(Array.isArray)) return { rows: list as Json[][], view, positional };
  return { value: list, view };
}

/**
 * How rows without column names meet a column model: Azure's server maps them onto the signature's
 * columns in order; MLflow does not (a frame without names has columns 0, 1, …).
 */
export type PositionalRows = "by-signature" | "numbered";

/** A column model's request: named records, cast and checked by the signature. */
function columnRequest(
  shaped: Shaped,
  columns: readonly ColumnSpec[],
  positional: PositionalRows,
): ModelRequest {
  let records: Record<string, Json>[];
  if ("records" in shaped) records = shaped.records;
  else if ("value" in shaped) {
    if (isObject(shaped.value)) records = fromColumns(shaped.value);
    else if (Array.isArray(shaped.value) && columns.length === 1)
      records = shaped.value.map((v) => ({ [String(columns[0]!.name)]: v }));
    else
      throw badRequest(
        "BadRequest",
        `Invalid input. Failed to convert data \`${JSON.stringify(shaped.value)?.slice(0, 80)}\` to type \`${columns[0]?.type}\` defined in the model signature.`,
      );
  } else if (positional === "numbered") {
    // mlflow/models/utils.py, _enforce_named_col_schema: the named columns are missing. A single-column
    // schema takes a list.
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

export interface ShapedBody {
  shaped: Shaped;
  /** The parsed JSON (null for CSV): where params come from. */
  json: Json;
  nonFinite: boolean;
}

/**
 * A shaped body as the batch the instance takes: empty bodies refused, the model's request made by
 * its interface, a column model answered as row objects, and params passed only when the signature
 * declares them (mlflow/pyfunc/__init__.py, _validate_params; others are dropped with a warning).
 */
export function batchOf(
  { shaped, json, nonFinite }: ShapedBody,
  iface: ModelInterface,
  paramNames: ParamNames,
  positional: PositionalRows,
): Batch {
  const empty =
    ("rows" in shaped && shaped.rows.length === 0) ||
    ("records" in shaped && shaped.records.length === 0) ||
    ("value" in shaped && Array.isArray(shaped.value) && shaped.value.length === 0);
  if (empty) throw new HttpError("EmptyInput", "The request has no rows to score");
  const spec = iface.inputs;
  const request =
    spec.kind === "columns"
      ? columnRequest(shaped, spec.columns, positional)
      : spec.kind === "tensors"
        ? tensorRequest(shaped, spec)
        : anyRequest(shaped);
  const view = spec.kind === "tensors" ? shaped.view : "records";
  const batch: Batch = { request: { ...request, view }, rows: requestRows(request), nonFinite };
  const params = isObject(json) ? json.params : undefined;
  if (isObject(params)) {
    if (paramNames)
      batch.request.params = Object.fromEntries(
        Object.entries(params).filter(([k]) => paramNames.includes(k)),
      );
    const ignored = Object.keys(params).filter((k) => !paramNames?.includes(k));
    if (ignored.length > 0) batch.ignoredParams = ignored;
  }
  return batch;
}

/** How the instance answered: output tensors already in the request's view (ONNX), or the model's own values (Python). */
export type AnswerKind = "view" | "values";

/** What an answer's body needs beside the predictions: the model it came from, a v2 request's id and outputs. */
export interface AnswerContext {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs?: string[];
}
