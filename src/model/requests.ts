/**
 * A request as a model takes it, whatever protocol it came in: named records (column models),
 * positional rows (models that declare nothing), or named tensors. The forms requests come in are
 * mapped onto the model's tensors here, and every tensor is checked against the one it feeds (name,
 * dtype, shape), so that a request that does not fit is a 400 that says which input, what it takes
 * and what was sent, and never an error from inside the runtime.
 */
import { userError } from "../shared/index.js";
import { missingInputs } from "./enforce.js";
import type { ModelInputs } from "./interface.js";
import {
  alignTrailingOnes,
  elementCount,
  fitsDtype,
  formatShape,
  fromNested,
  shapeMismatch,
  type TensorData,
  type TensorDecl,
} from "./tensors.js";

export type ModelRequest =
  | { records: Record<string, unknown>[] }
  | { rows: unknown[][] }
  | { tensors: Record<string, TensorData> };

export type TensorInputs = Extract<ModelInputs, { kind: "tensors" }>;

/** How many rows (the first dimension of the first tensor) a request holds. */
export function requestRows(request: ModelRequest): number {
  if ("records" in request) return request.records.length;
  if ("rows" in request) return request.rows.length;
  const first = Object.values(request.tensors)[0];
  return first ? (first.shape[0] ?? 1) : 0;
}

const describeSent = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function nested(name: string, value: unknown): TensorData {
  const tensor = fromNested(value);
  if ("problem" in tensor)
    throw userError(
      "InputShapeMismatch",
      `Input '${name}': ${tensor.problem}.`,
      "Send a rectangular nested list.",
    );
  return tensor;
}

/** One tensor for a model with one input, from a nested list (MLflow's ndarray form). */
function single(inputs: TensorInputs, value: unknown): Record<string, TensorData> {
  if (inputs.tensors.length !== 1) {
    const names = inputs.tensors.map((t) => t.name);
    throw userError(
      "MissingInputs",
      `Unable to map numpy array input to the expected model input. Numpy arrays can only be used as input for MLflow ONNX models that have a single input. This model requires ${names.length} inputs. Please pass in data as either a dictionary or a DataFrame with the following tensors: ${JSON.stringify(names)}.`,
      `Send {"inputs": {${names.map((n) => `"${n}": [...]`).join(", ")}}}.`,
    );
  }
  return { [inputs.tensors[0]!.name]: nested(inputs.tensors[0]!.name, value) };
}

/**
 * Tensors from the value of MLflow's `inputs` (or Azure's `input_data` holding a dict or a nested
 * list): a dict maps input names to nested lists; a list feeds a model's only input.
 */
export function tensorsFromValue(inputs: TensorInputs, value: unknown): Record<string, TensorData> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!inputs.named && entries.length === 1) return single(inputs, entries[0]![1]);
    return Object.fromEntries(entries.map(([name, v]) => [name, nested(name, v)]));
  }
  return single(inputs, value);
}

/**
 * Tensors from row objects (`instances` as a list of dicts, `dataframe_records`, CSV): each input's
 * per-row values stacked along a new first axis, as MLflow's TF-serving parser does.
 */
export function tensorsFromRecords(
  inputs: TensorInputs,
  records: readonly Record<string, unknown>[],
): Record<string, TensorData> {
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  const single = inputs.tensors.length === 1 ? inputs.tensors[0]! : undefined;
  // One input and records whose keys are not its name: the columns are the input's features, in order.
  if (single && !keys.has(single.name))
    return tensorsFromRows(
      inputs,
      records.map((r) => Object.values(r)),
    );
  // Extra keys are dropped (as MLflow drops extra columns); they only name themselves in errors.
  return Object.fromEntries(
    [...keys].map((name) => [
      name,
      inputs.tensors.some((t) => t.name === name)
        ? nested(
            name,
            records.map((r) => r[name] ?? null),
          )
        : { shape: [0], data: [] },
    ]),
  );
}

/**
 * Tensors from positional rows (`instances` as lists, `dataframe_split` data, Azure's list of
 * rows): a single input takes the rows as they are ([N, features…]); several column-like inputs
 * ([N] or [N, 1] each) take one value per row each, in order.
 */
export function tensorsFromRows(inputs: TensorInputs, rows: readonly unknown[]): Record<string, TensorData> {
  if (inputs.tensors.length === 1) return single(inputs, rows);
  const columnLike = inputs.tensors.every((t) => !t.shape || t.shape.length === 1 || t.shape[1] === 1);
  if (!columnLike) return single(inputs, rows);
  return Object.fromEntries(
    inputs.tensors.map((t, j) => [
      t.name,
      nested(
        t.name,
        rows.map((row, i) => {
          if (!Array.isArray(row) || row.length !== inputs.tensors.length)
            throw userError(
              "BadShape",
              `Row ${i} has ${Array.isArray(row) ? row.length : "no"} values; the model takes ${inputs.tensors.length} (${inputs.tensors.map((x) => x.name).join(", ")}).`,
              "Send one value per input, in the model's input order, or name the inputs.",
            );
          return row[j];
        }),
      ),
    ]),
  );
}

function typeError(decl: TensorDecl, value: unknown, index: number) {
  return userError(
    "InputTypeMismatch",
    `Input '${decl.name}' takes ${decl.dtype} ${formatShape(decl.shape)}; element ${index} is ${describeSent(value)}.`,
    `Send ${decl.dtype === "string" ? "strings" : decl.dtype === "bool" ? "booleans" : decl.dtype.startsWith("float") ? "numbers (null for a missing value)" : `integers in ${decl.dtype}'s range`} for '${decl.name}'.`,
  );
}

/**
 * The request's tensors checked against the model's: every input present (others are dropped, as
 * MLflow drops extra columns), shapes of the declared rank (a trailing dimension of 1 may be added
 * or left out) with the declared fixed dimensions, elements of the declared type.
 */
export function checkTensors(
  inputs: TensorInputs,
  sent: Record<string, TensorData>,
): Record<string, TensorData> {
  const missing = inputs.tensors.filter((t) => !(t.name in sent)).map((t) => t.name);
  if (missing.length > 0) {
    const extra = Object.keys(sent).filter((k) => !inputs.tensors.some((t) => t.name === k));
    throw missingInputs(
      missing,
      extra,
      `Send every input: ${inputs.tensors.map((t) => `${t.name} ${t.dtype} ${formatShape(t.shape)}`).join(", ")}.`,
    );
  }
  const checked: Record<string, TensorData> = {};
  for (const decl of inputs.tensors) {
    const tensor = sent[decl.name]!;
    const shape = alignTrailingOnes(tensor.shape, decl.shape);
    const problem = shapeMismatch(shape, decl.shape);
    if (problem || elementCount(shape) !== tensor.data.length) {
      throw userError(
        "InputShapeMismatch",
        `Input '${decl.name}' takes ${decl.dtype} of shape ${formatShape(decl.shape)} (-1: any size); the request sent shape ${formatShape(tensor.shape)}${problem ? `: ${problem}` : ` with ${tensor.data.length} values`}.`,
        decl.shape && decl.shape.length === 2 && decl.shape[1]! > 0
          ? `Send rows of ${decl.shape[1]} values each, e.g. [[${Array(Math.min(decl.shape[1]!, 4)).fill(0).join(", ")}${decl.shape[1]! > 4 ? ", ..." : ""}]].`
          : `Send a tensor of shape ${formatShape(decl.shape)}.`,
      );
    }
    const bad = tensor.data.findIndex((v) => !fitsDtype(v, decl.dtype));
    if (bad >= 0) throw typeError(decl, tensor.data[bad], bad);
    checked[decl.name] = { shape, data: tensor.data };
  }
  return checked;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A model's saved input example (input_example.json, as MLflow writes it: a split-oriented frame
 * {columns, data}, records, {"inputs": …} for tensors, or a nested list) as a request the model
 * takes, for the startup prediction; undefined when it cannot be read as one.
 */
export function exampleRequest(example: unknown, inputs: ModelInputs, limit = 5): ModelRequest | undefined {
  try {
    let value: unknown = example;
    if (isRecord(value) && "dataframe_split" in value) value = value.dataframe_split;
    if (isRecord(value) && "dataframe_records" in value) value = value.dataframe_records;
    if (isRecord(value) && ("inputs" in value || "instances" in value))
      value = value.inputs ?? value.instances;
    let records: Record<string, unknown>[] | undefined;
    let rows: unknown[][] | undefined;
    if (isRecord(value) && Array.isArray(value.data)) {
      const data = (value.data as unknown[][]).slice(0, limit);
      if (Array.isArray(value.columns)) {
        const columns = value.columns.map(String);
        records = data.map((row) => Object.fromEntries(columns.map((c, j) => [c, row[j]])));
      } else rows = data;
    } else if (Array.isArray(value) && value.every(isRecord))
      records = value.slice(0, limit) as Record<string, unknown>[];
    if (inputs.kind === "tensors") {
      const tensors = records
        ? tensorsFromRecords(inputs, records)
        : rows
          ? tensorsFromRows(inputs, rows)
          : tensorsFromValue(inputs, value);
      return { tensors: checkTensors(inputs, tensors) };
    }
    if (records) return { records };
    if (rows) return { rows };
    if (Array.isArray(value) && value.every(Array.isArray))
      return { rows: (value as unknown[][]).slice(0, limit) };
    return undefined;
  } catch {
    return undefined;
  }
}
