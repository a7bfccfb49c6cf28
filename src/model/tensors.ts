/**
 * Tensors as requests carry them: element types under each of their names (ONNX's, numpy's as MLflow
 * writes them in tensor specs, the Open Inference Protocol's), shapes with -1 for a variable
 * dimension, and nested JSON arrays turned into flat data and a shape.
 */

/** An element type, by the name ONNX Runtime for JavaScript gives it. */
export type Dtype =
  | "float32"
  | "float64"
  | "float16"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "bool"
  | "string";

interface DtypeNames {
  dtype: Dtype;
  /** TensorProto.DataType in onnx.proto */
  onnx: number;
  /** The Open Inference Protocol's datatype */
  v2: string;
  /** numpy names MLflow writes in a tensor-spec's dtype */
  numpy: readonly string[];
}

const DTYPES: readonly DtypeNames[] = [
  { dtype: "float32", onnx: 1, v2: "FP32", numpy: ["float32"] },
  { dtype: "uint8", onnx: 2, v2: "UINT8", numpy: ["uint8"] },
  { dtype: "int8", onnx: 3, v2: "INT8", numpy: ["int8"] },
  { dtype: "uint16", onnx: 4, v2: "UINT16", numpy: ["uint16"] },
  { dtype: "int16", onnx: 5, v2: "INT16", numpy: ["int16"] },
  { dtype: "int32", onnx: 6, v2: "INT32", numpy: ["int32"] },
  { dtype: "int64", onnx: 7, v2: "INT64", numpy: ["int64"] },
  { dtype: "string", onnx: 8, v2: "BYTES", numpy: ["str", "object", "bytes", "<U0"] },
  { dtype: "bool", onnx: 9, v2: "BOOL", numpy: ["bool"] },
  { dtype: "float16", onnx: 10, v2: "FP16", numpy: ["float16"] },
  { dtype: "float64", onnx: 11, v2: "FP64", numpy: ["float64"] },
  { dtype: "uint32", onnx: 12, v2: "UINT32", numpy: ["uint32"] },
  { dtype: "uint64", onnx: 13, v2: "UINT64", numpy: ["uint64"] },
];

/** The Open Inference Protocol's datatypes (BF16 has no JSON form pier can feed). */
export const V2_DATATYPES = new Set([...DTYPES.map((d) => d.v2), "BF16"]);

export const dtypeOfOnnx = (code: number): Dtype | undefined => DTYPES.find((d) => d.onnx === code)?.dtype;
export const dtypeOfNumpy = (name: string): Dtype | undefined =>
  DTYPES.find((d) => d.numpy.includes(name))?.dtype;
export const dtypeOfV2 = (name: string): Dtype | undefined => DTYPES.find((d) => d.v2 === name)?.dtype;
export const v2Datatype = (dtype: Dtype): string => DTYPES.find((d) => d.dtype === dtype)!.v2;

/** A named tensor a model takes or gives: shape with -1 for a variable dimension, null when unknown. */
export interface TensorDecl {
  name: string;
  dtype: Dtype;
  shape: number[] | null;
}

/** A tensor as a request carries it to an instance: a shape and its elements, flat, in C order. */
export interface TensorData {
  shape: number[];
  data: unknown[];
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const formatShape = (shape: readonly number[] | null): string =>
  shape ? `[${shape.join(", ")}]` : "(any shape)";

/**
 * A nested JSON array as a tensor: its shape (from the nesting) and its elements, flat. Returns a
 * description of the problem for ragged arrays. A scalar is a tensor of shape [].
 */
export function fromNested(value: unknown): TensorData | { problem: string } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const data: unknown[] = [];
  const walk = (v: unknown, depth: number, path: string): string | undefined => {
    if (depth === shape.length) {
      if (Array.isArray(v)) return `${path || "the value"} nests deeper than its first element`;
      data.push(v);
      return undefined;
    }
    if (!Array.isArray(v) || v.length !== shape[depth])
      return `${path || "the value"} has ${Array.isArray(v) ? v.length : "no"} elements where its first sibling has ${shape[depth]} (a ragged array is not a tensor)`;
    for (let i = 0; i < v.length; i++) {
      const problem = walk(v[i], depth + 1, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = walk(value, 0, "");
  return problem ? { problem } : { shape, data };
}

/** Flat data in C order back into nested arrays of `shape`. */
export function toNested(data: ArrayLike<unknown>, shape: readonly number[], offset = 0): unknown {
  if (shape.length === 0) return data[offset];
  const [first, ...rest] = shape;
  const stride = elementCount(rest);
  return Array.from({ length: first! }, (_, i) => toNested(data, rest, offset + i * stride));
}

const INTEGER_RANGE: Partial<Record<Dtype, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Whether a JSON value can be an element of a `dtype` tensor: numbers for floats (null is a missing
 * value, NaN), integers in range for integer types, booleans (or 0/1) for bool, strings for string.
 */
export function fitsDtype(value: unknown, dtype: Dtype): boolean {
  if (dtype === "string") return typeof value === "string";
  if (dtype === "bool") return typeof value === "boolean" || value === 0 || value === 1;
  if (dtype === "float32" || dtype === "float64" || dtype === "float16")
    return typeof value === "number" || value === null;
  const range = INTEGER_RANGE[dtype]!;
  return typeof value === "number" && Number.isInteger(value) && value >= range[0] && value <= range[1];
}

/** How a shape sent compares with one declared: undefined when it fits, else why not. */
export function shapeMismatch(
  sent: readonly number[],
  declared: readonly number[] | null,
): string | undefined {
  if (!declared) return undefined;
  if (sent.length !== declared.length) return `rank ${sent.length}, the model takes rank ${declared.length}`;
  const bad = declared.findIndex((d, i) => d >= 0 && d !== sent[i]);
  return bad < 0 ? undefined : `dimension ${bad} is ${sent[bad]}, the model takes ${declared[bad]}`;
}

/**
 * `sent` reshaped to the declared rank when they differ only by trailing dimensions of size 1
 * ([N] for [N, 1], or [N, 1] for [N]); `sent` otherwise.
 */
export function alignTrailingOnes(sent: readonly number[], declared: readonly number[] | null): number[] {
  if (!declared || sent.length === declared.length) return [...sent];
  const [longer, shorter] = sent.length > declared.length ? [sent, declared] : [declared, sent];
  const tail = longer.slice(shorter.length);
  const prefixFits = shorter.every((d, i) => d < 0 || longer[i]! < 0 || d === longer[i]);
  if (!prefixFits || !tail.every((d) => d === 1)) return [...sent];
  return sent.length > declared.length ? sent.slice(0, declared.length) : [...sent, ...tail.map(() => 1)];
}
