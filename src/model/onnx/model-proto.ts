/**
 * Typed builders for the subset of onnx.proto that pier writes (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto). Field numbers follow onnx/onnx.proto3.
 */
import { ProtoWriter } from "./protobuf.js";

export type ElemType = "float" | "int64" | "string" | "bool" | "double";

const ELEM_TYPE_CODE: Record<ElemType, number> = { float: 1, int64: 7, string: 8, bool: 9, double: 11 };

export interface OnnxTensor {
  name?: string;
  type: ElemType;
  dims: number[];
  values: readonly number[] | readonly string[] | readonly boolean[];
}

export type OnnxAttributeValue =
  | { kind: "int"; value: number }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "float"; value: number }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "string"; value: string }
  | { kind: "strings"; value: readonly string[] }
  | { kind: "tensor"; value: OnnxTensor };

export interface OnnxNode {
  opType: string;
  domain?: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttributeValue>;
}

export interface OnnxValueInfo {
  name: string;
  type: ElemType;
  /** A number is a fixed size, a string a symbolic (variable) dimension. */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxTensor[];
}

export interface OnnxModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
  graph: OnnxGraph;
}

/** Attribute constructors, so call sites read `attr.ints([0, 1])`. */
export const attr = {
  int: (value: number): OnnxAttributeValue => ({ kind: "int", value }),
  ints: (value: readonly number[]): OnnxAttributeValue => ({ kind: "ints", value }),
  float: (value: number): OnnxAttributeValue => ({ kind: "float", value }),
  floats: (value: readonly number[]): OnnxAttributeValue => ({ kind: "floats", value }),
  string: (value: string): OnnxAttributeValue => ({ kind: "string", value }),
  strings: (value: readonly string[]): OnnxAttributeValue => ({ kind: "strings", value }),
  tensor: (value: OnnxTensor): OnnxAttributeValue => ({ kind: "tensor", value }),
};

const ATTRIBUTE_TYPE_CODE: Record<OnnxAttributeValue["kind"], number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
  strings: 8,
};

function writeTensor(w: ProtoWriter, tensor: OnnxTensor): void {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.values.length) {
    throw new RangeError(
      `tensor ${tensor.name ?? "(attribute)"}: dims ${tensor.dims} need ${count} values, got ${tensor.values.length}`,
    );
  }
  w.packedInts(1, tensor.dims);
  w.int(2, ELEM_TYPE_CODE[tensor.type]);
  if (tensor.name) w.string(8, tensor.name);
  switch (tensor.type) {
    case "float":
      w.packedFloats(4, tensor.values as readonly number[]);
      break;
    case "double":
      w.packedDoubles(10, tensor.values as readonly number[]);
      break;
    case "int64":
      w.packedInts(7, tensor.values as readonly number[]);
      break;
    case "bool":
      w.packedInts(
        5,
        (tensor.values as readonly boolean[]).map((v) => (v ? 1 : 0)),
      );
      break;
    case "string":
      for (const s of tensor.values as readonly string[]) w.string(6, s);
      break;
  }
}

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttributeValue): void {
  w.string(1, name);
  w.int(20, ATTRIBUTE_TYPE_CODE[a.kind]);
  switch (a.kind) {
    case "float":
      w.float(2, a.value);
      break;
    case "int":
      w.int(3, a.value);
      break;
    case "string":
      w.string(4, a.value);
      break;
    case "tensor":
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case "floats":
      w.packedFloats(7, a.value);
      break;
    case "ints":
      w.packedInts(8, a.value);
      break;
    case "strings":
      for (const s of a.value) w.string(9, s);
      break;
  }
}

function writeValueInfo(w: ProtoWriter, info: OnnxValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, ELEM_TYPE_CODE[info.type]);
      tensorType.message(2, (shape) => {
        for (const dim of info.shape) {
          shape.message(1, (d) => (typeof dim === "number" ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

function writeNode(w: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {}))
    w.message(5, (a) => writeAttribute(a, name, value));
  if (node.domain) w.string(7, node.domain);
}

/** Serializes a model to the ONNX binary format that onnxruntime and `onnx.load` read. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => {
    for (const node of model.graph.nodes) g.message(1, (n) => writeNode(n, node));
    g.string(2, model.graph.name);
    for (const init of model.graph.initializers) g.message(5, (t) => writeTensor(t, init));
    for (const input of model.graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of model.graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  for (const opset of model.opsets) {
    w.message(8, (o) => {
      if (opset.domain) o.string(1, opset.domain);
      o.int(2, opset.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (m) => m.string(1, key).string(2, value));
  }
  return w.finish();
}
