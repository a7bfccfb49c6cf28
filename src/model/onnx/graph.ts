/**
 * What an ONNX model takes and gives, read from its graph without loading it (field numbers from
 * onnx/onnx.proto3): the inputs a caller must feed (initializers excluded, as ONNX Runtime does), the
 * outputs with their types, and for each output that is a ZipMap (a sequence of maps from class label
 * to probability, the end of most classifiers converted from scikit-learn) the tensor that feeds it
 * and the class labels. ONNX Runtime for JavaScript cannot return non-tensor values, so
 * `exposeTensors` adds those feeding tensors to the graph's outputs.
 */
import { type Dtype, dtypeOfOnnx, type TensorDecl } from "../tensors.js";
import { decodeString, intValues, type ProtoField, ProtoWriter, readFields } from "./protobuf.js";

/** An output as the graph declares it. */
export type OnnxOutput =
  | ({ kind: "tensor" } & TensorDecl)
  | {
      kind: "zipmap";
      name: string;
      /** The probability tensor [N, classes] the ZipMap turns into maps. */
      source: string;
      labels: number[] | string[];
    }
  /** Any other non-tensor value (a sequence or map not made by a ZipMap): it cannot be returned. */
  | { kind: "other"; name: string; type: string };

export interface OnnxGraphInterface {
  inputs: TensorDecl[];
  /** Inputs that are not tensors of a type JSON can carry (sequences, maps, complex numbers…). */
  unsupportedInputs: { name: string; type: string }[];
  outputs: OnnxOutput[];
  opsets: { domain: string; version: number }[];
  producer: string;
}

interface ValueType {
  kind: "tensor" | "sequence" | "map" | "optional" | "sparse" | "unknown";
  dtype?: Dtype;
  shape?: number[] | null;
  describe: string;
}

const field = (fields: ProtoField[], n: number) => fields.find((f) => f.field === n);
const fieldsOf = (bytes: Uint8Array) => [...readFields(bytes)];

function readShape(bytes: Uint8Array): number[] {
  return fieldsOf(bytes)
    .filter((f) => f.field === 1)
    .map((dim) => {
      const value = field(fieldsOf(dim.bytes), 1);
      return value ? Number(value.varint) : -1;
    });
}

function readType(bytes: Uint8Array): ValueType {
  const type = fieldsOf(bytes);
  const tensor = field(type, 1);
  if (tensor) {
    const t = fieldsOf(tensor.bytes);
    const code = Number(field(t, 1)?.varint ?? 0);
    const shape = field(t, 2);
    const dtype = dtypeOfOnnx(code);
    return {
      kind: "tensor",
      dtype,
      shape: shape ? readShape(shape.bytes) : null,
      describe: `tensor(${dtype ?? `type ${code}`})`,
    };
  }
  const sequence = field(type, 4);
  if (sequence) {
    const inner = field(fieldsOf(sequence.bytes), 1);
    return { kind: "sequence", describe: `seq(${inner ? readType(inner.bytes).describe : "?"})` };
  }
  const map = field(type, 5);
  if (map) {
    const m = fieldsOf(map.bytes);
    const key = dtypeOfOnnx(Number(field(m, 1)?.varint ?? 0)) ?? "?";
    const value = field(m, 2);
    return { kind: "map", describe: `map(${key}, ${value ? readType(value.bytes).describe : "?"})` };
  }
  if (field(type, 8)) return { kind: "optional", describe: "optional" };
  if (field(type, 9)) return { kind: "sparse", describe: "sparse_tensor" };
  return { kind: "unknown", describe: "unknown" };
}

function readValueInfo(bytes: Uint8Array): { name: string; type: ValueType } {
  const info = fieldsOf(bytes);
  const name = field(info, 1);
  const type = field(info, 2);
  return {
    name: name ? decodeString(name.bytes) : "",
    type: type ? readType(type.bytes) : { kind: "unknown", describe: "unknown" },
  };
}

interface NodeInfo {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, ProtoField[]>;
}

function readNode(bytes: Uint8Array): NodeInfo {
  const node: NodeInfo = { opType: "", domain: "", inputs: [], outputs: [], attributes: new Map() };
  for (const f of readFields(bytes)) {
    if (f.field === 1) node.inputs.push(decodeString(f.bytes));
    else if (f.field === 2) node.outputs.push(decodeString(f.bytes));
    else if (f.field === 4) node.opType = decodeString(f.bytes);
    else if (f.field === 7) node.domain = decodeString(f.bytes);
    else if (f.field === 5) {
      const attribute = fieldsOf(f.bytes);
      const name = field(attribute, 1);
      if (name) node.attributes.set(decodeString(name.bytes), attribute);
    }
  }
  return node;
}

/** ZipMap's class labels: classlabels_int64s (AttributeProto.ints, field 8) or classlabels_strings (strings, 9). */
function zipMapLabels(node: NodeInfo): number[] | string[] {
  const ints = node.attributes.get("classlabels_int64s");
  if (ints) return ints.filter((f) => f.field === 8).flatMap((f) => intValues(f).map(Number));
  const strings = node.attributes.get("classlabels_strings");
  return (strings ?? []).filter((f) => f.field === 9).map((f) => decodeString(f.bytes));
}

function graphOf(model: Uint8Array): ProtoField {
  const graph = [...readFields(model)].find((f) => f.field === 7);
  if (!graph) throw new Error("the file holds no ONNX graph (ModelProto.graph is missing)");
  return graph;
}

/** Reads the interface of a serialized ModelProto. Throws for bytes that are not one. */
export function readOnnxInterface(model: Uint8Array): OnnxGraphInterface {
  const top = fieldsOf(model);
  const graph = fieldsOf(graphOf(model).bytes);
  const initializers = new Set<string>();
  const producers = new Map<string, NodeInfo>();
  for (const f of graph) {
    if (f.field === 5) {
      const name = field(fieldsOf(f.bytes), 8);
      if (name) initializers.add(decodeString(name.bytes));
    } else if (f.field === 1) {
      const node = readNode(f.bytes);
      for (const output of node.outputs) producers.set(output, node);
    }
  }
  const inputs: TensorDecl[] = [];
  const unsupportedInputs: { name: string; type: string }[] = [];
  for (const f of graph) {
    if (f.field !== 11) continue;
    const { name, type } = readValueInfo(f.bytes);
    if (initializers.has(name)) continue;
    if (type.kind === "tensor" && type.dtype)
      inputs.push({ name, dtype: type.dtype, shape: type.shape ?? null });
    else unsupportedInputs.push({ name, type: type.describe });
  }
  const outputs = graph
    .filter((f) => f.field === 12)
    .map((f): OnnxOutput => {
      const { name, type } = readValueInfo(f.bytes);
      if (type.kind === "tensor" && type.dtype)
        return { kind: "tensor", name, dtype: type.dtype, shape: type.shape ?? null };
      const producer = producers.get(name);
      if (producer?.opType === "ZipMap" && producer.inputs[0])
        return { kind: "zipmap", name, source: producer.inputs[0], labels: zipMapLabels(producer) };
      return { kind: "other", name, type: type.describe };
    });
  const opsets = top
    .filter((f) => f.field === 8)
    .map((f) => {
      const o = fieldsOf(f.bytes);
      const domain = field(o, 1);
      return { domain: domain ? decodeString(domain.bytes) : "", version: Number(field(o, 2)?.varint ?? 0) };
    });
  const producer = [field(top, 2), field(top, 3)]
    .map((f) => (f ? decodeString(f.bytes) : ""))
    .filter(Boolean)
    .join(" ");
  return { inputs, unsupportedInputs, outputs, opsets, producer };
}

/**
 * The model with `names` added to its graph's outputs as float tensors (what a ZipMap takes), so
 * that ONNX Runtime can return them. The rest of the bytes are kept as they are.
 */
export function exposeTensors(model: Uint8Array, names: readonly string[]): Uint8Array {
  const graph = graphOf(model);
  const extra = new ProtoWriter();
  for (const name of names) {
    extra.message(12, (info) =>
      info.string(1, name).message(2, (type) => type.message(1, (tensor) => tensor.int(1, 1))),
    );
  }
  const graphBytes = new Uint8Array(graph.bytes.length + extra.length);
  graphBytes.set(graph.bytes);
  graphBytes.set(extra.finish(), graph.bytes.length);
  const out = new ProtoWriter();
  out.raw(model.subarray(0, graph.start));
  out.bytes(7, graphBytes);
  out.raw(model.subarray(graph.end));
  return out.finish();
}
