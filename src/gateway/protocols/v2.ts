/**
 * The Open Inference Protocol (KServe v2 REST, kserve/docs/predict-api/v2/required_api.md):
 * - GET v2 (server metadata), v2/health/live and v2/health/ready;
 * - GET v2/models/M[/versions/V] (model metadata) and …/ready; POST …/infer with
 *   {"id"?, "inputs": [{name, shape, datatype, data}], "outputs"?: [{name}]};
 * - answers {"model_name", "model_version", "id"?, "outputs"}; errors {"error": "<message>"}.
 */
import type { DeploymentTarget } from "../../engine/index.js";
import {
  checkTensors,
  dtypeOfV2,
  elementCount,
  enforceColumns,
  fromNested,
  type ModelInterface,
  type ModelRequest,
  requestRows,
  type TensorData,
  V2_DATATYPES,
  v2Datatype,
} from "../../model/index.js";
import { decodePathSegment, PIER_VERSION } from "../../shared/index.js";
import { badRequest } from "../http-error.js";
import type { ErrorResponse, ProtocolAdapter, ProtocolRoute } from "../protocol.js";
import { type Batch, isObject, type Json, parseBodyJson, requireJson } from "../shapes.js";

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

/** An inference request's inputs, each checked for a name, a shape, a known datatype and data of that shape. */
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

const COLUMN_DATATYPES: Record<string, string> = {
  double: "FP64",
  float: "FP32",
  long: "INT64",
  integer: "INT32",
  boolean: "BOOL",
};

/** A model's metadata: name, versions, platform, inputs and outputs with datatype and shape. */
function v2Metadata(name: string, target: DeploymentTarget): unknown {
  const iface: ModelInterface = target.interface;
  const inputs =
    iface.inputs.kind === "tensors"
      ? iface.inputs.tensors.map((t) => ({
          name: t.name,
          datatype: v2Datatype(t.dtype),
          shape: t.shape ?? [-1],
        }))
      : iface.inputs.kind === "columns"
        ? iface.inputs.columns.map((c) => ({
            name: String(c.name),
            datatype: COLUMN_DATATYPES[c.type] ?? "BYTES",
            shape: [-1],
          }))
        : [];
  const outputs = (iface.outputs ?? []).flatMap((o) =>
    o.kind === "tensor"
      ? [{ name: o.name, datatype: v2Datatype(o.dtype), shape: o.shape ?? [-1] }]
      : o.kind === "zipmap"
        ? [{ name: o.name, datatype: "FP32", shape: [-1, o.labels.length] }]
        : [],
  );
  return {
    name,
    versions: [String(target.modelVersion)],
    platform: target.answers === "view" ? "onnxruntime_onnx" : "mlflow",
    inputs,
    outputs,
  };
}

const GET = ["GET", "HEAD"] as const;
const SERVER: ProtocolRoute = {
  access: "open",
  methods: GET,
  answer: () => ({
    status: 200,
    body: JSON.stringify({ name: "pier", version: PIER_VERSION, extensions: [] }),
  }),
};
const HEALTH: ProtocolRoute = { access: "open", methods: GET, answer: () => ({ status: 200, body: "" }) };

const MODEL_PATH = /^v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/infer|\/ready)?$/;

export const v2: ProtocolAdapter = {
  name: "v2",
  match(rest) {
    if (rest === "v2") return SERVER;
    if (rest === "v2/health/live" || rest === "v2/health/ready") return HEALTH;
    const match = MODEL_PATH.exec(rest);
    if (!match) return undefined;
    const model = decodePathSegment(match[1]!);
    const version = match[2] !== undefined ? decodePathSegment(match[2]) : undefined;
    const named = { model, ...(version !== undefined ? { version } : {}) };
    if (match[3] === "/infer") return { access: "infer", anyMethodForScripts: false, ...named };
    if (match[3] === "/ready") return { access: "read", ...named, answer: () => ({ status: 200, body: "" }) };
    return {
      access: "read",
      ...named,
      answer: (target) => ({ status: 200, body: JSON.stringify(v2Metadata(model, target)) }),
    };
  },
  parse(contentType, body, iface): Batch {
    requireJson(contentType);
    const text = body.toString("utf8");
    const { json, nonFinite } = parseBodyJson(text);
    const { request, id, outputs } = v2Request(json, iface);
    return {
      request: { ...request, view: "v2", ...(outputs ? { outputs } : {}) },
      rows: requestRows(request),
      nonFinite: nonFinite || /nan|inf/i.test(text),
      ...(id !== undefined ? { id } : {}),
    };
  },
  format(predictions, answer, context) {
    let outputs = predictions;
    if (answer === "values") {
      const all = v2OutputsOfRows(JSON.parse(predictions));
      outputs = JSON.stringify(context.outputs ? all.filter((o) => context.outputs!.includes(o.name)) : all);
    }
    return `{"model_name":${JSON.stringify(context.modelName)},"model_version":${JSON.stringify(context.modelVersion)}${context.id !== undefined ? `,"id":${JSON.stringify(context.id)}` : ""},"outputs":${outputs}}`;
  },
  renderError: (e): ErrorResponse => ({
    status: e.status,
    body: JSON.stringify({ error: e.message }),
    headers: { ...e.headers, "x-pier-error-code": e.code },
  }),
};
