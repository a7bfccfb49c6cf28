/**
 * Loads an MLflow `onnx`-flavor model directory into ONNX Runtime and scores requests as the model
 * declares them: any number of inputs, each a tensor of any rank and element type, fed from named
 * records (one column per input, or a single input that takes every column), positional rows, or
 * tensors. Outputs come back named, in the view each protocol wants; a ZipMap output (a sequence of
 * maps, which ONNX Runtime for Node cannot return) is rebuilt from the probability tensor that feeds
 * it, exposed as an extra graph output at load. Requests scored together share one run when the model
 * has a variable batch dimension.
 */
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import {
  checkTensors,
  type Dtype,
  elementCount,
  enforceColumns,
  exposeTensors,
  MLMODEL_FILE,
  type MlModel,
  type ModelInterface,
  type ModelOutput,
  type ModelRequest,
  modelInterface,
  readMlModel,
  type TensorData,
  type TensorInputs,
  tensorsFromRecords,
  tensorsFromRows,
  toNested,
  v2Datatype,
} from "../model/index.js";
import { userError } from "../shared/index.js";
import type { AnswerView, InvokeRequest } from "./host-protocol.js";

/** One row of a prediction: each model output's value for that row. */
export type PredictionRow = Record<string, unknown>;

/** An output tensor of one run, as plain values. */
interface OutputValues {
  dims: number[];
  data: unknown[];
}

type Outputs = Map<string, OutputValues>;

/** One request's answer: its value in the request's view, or the error that refused it. */
export type Scored = { ok: true; value: unknown } | { ok: false; error: unknown };

const TYPED_ARRAYS: Record<
  Exclude<Dtype, "string" | "bool" | "int64" | "uint64" | "float16">,
  (n: number[]) => ArrayLike<number>
> = {
  float32: (v) => Float32Array.from(v),
  float64: (v) => Float64Array.from(v),
  int8: (v) => Int8Array.from(v),
  int16: (v) => Int16Array.from(v),
  int32: (v) => Int32Array.from(v),
  uint8: (v) => Uint8Array.from(v),
  uint16: (v) => Uint16Array.from(v),
  uint32: (v) => Uint32Array.from(v),
};

/** IEEE 754 half precision bits of a number (round to nearest even). */
function toHalf(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = bits & 0x7fffff;
  if (((bits >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    const m = (mantissa | 0x800000) >>> (1 - exponent);
    return sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
  const rounded = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (rounded + (rest > 0x1000 || (rest === 0x1000 && rounded & 1) ? 1 : 0));
}

function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}

function toOrtTensor(dtype: Dtype, tensor: TensorData): ort.Tensor {
  const { data, shape } = tensor;
  switch (dtype) {
    case "string":
      return new ort.Tensor("string", data as string[], shape);
    case "bool":
      return new ort.Tensor(
        "bool",
        Uint8Array.from(data, (v) => (v === true || v === 1 ? 1 : 0)),
        shape,
      );
    case "int64":
      return new ort.Tensor(
        "int64",
        BigInt64Array.from(data, (v) => BigInt(v as number)),
        shape,
      );
    case "uint64":
      return new ort.Tensor(
        "uint64",
        BigUint64Array.from(data, (v) => BigInt(v as number)),
        shape,
      );
    case "float16":
      return new ort.Tensor(
        "float16",
        Uint16Array.from(data, (v) => toHalf(v === null ? Number.NaN : (v as number))),
        shape,
      );
    default: {
      const numbers = data.map((v) => (v === null ? Number.NaN : (v as number)));
      return new ort.Tensor(dtype, TYPED_ARRAYS[dtype](numbers) as Float32Array, shape);
    }
  }
}

function plainValues(tensor: ort.Tensor): unknown[] {
  const data = tensor.data as ArrayLike<number | bigint | string>;
  if (tensor.type === "bool") return Array.from(data as Uint8Array, (v) => v !== 0);
  if (tensor.type === "float16") return Array.from(data as Uint16Array, fromHalf);
  if (tensor.type === "int64" || tensor.type === "uint64") return Array.from(data as BigInt64Array, Number);
  return Array.from(data as ArrayLike<unknown>);
}

/**
 * A session for a rewritten model. Weights an exporter saved as external data (MLflow's default) are
 * found relative to the model file, and ONNX Runtime refuses paths that resolve outside its folder,
 * so the rewritten graph is written to a temporary folder with the original folder's files linked
 * (hard links; copies across file systems), which is removed once ONNX Runtime has read them.
 */
async function createRewritten(
  modelPath: string,
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  const folder = mkdtempSync(join(tmpdir(), "pier-onnx-"));
  try {
    for (const entry of readdirSync(dirname(modelPath), { withFileTypes: true })) {
      if (!entry.isFile() || entry.name === basename(modelPath)) continue;
      const [from, to] = [join(dirname(modelPath), entry.name), join(folder, entry.name)];
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
    writeFileSync(join(folder, basename(modelPath)), bytes);
    return await ort.InferenceSession.create(join(folder, basename(modelPath)), options);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The ONNX inputs as ONNX Runtime reports them: -1 for a symbolic dimension. */
function ortInputs(session: ort.InferenceSession, modelPath: string): TensorInputs {
  return {
    kind: "tensors",
    named: true,
    tensors: session.inputMetadata.map((meta) => {
      if (!meta.isTensor) {
        throw userError(
          "OnnxInputUnsupported",
          `ONNX input '${meta.name}' of ${modelPath} is not a tensor; no JSON request can carry it`,
          "Export the model with tensor inputs.",
        );
      }
      return {
        name: meta.name,
        dtype: meta.type as Dtype,
        shape: meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1)),
      };
    }),
  };
}

export class OnnxScorer {
  /** What the model takes, by ONNX Runtime's metadata. */
  readonly inputs: TensorInputs;
  /** The outputs answered, in the graph's order (ZipMaps rebuilt; other non-tensors left out). */
  readonly outputs: ModelOutput[];
  /** The model's interface as requests see it (the signature's columns, or the graph's tensors). */
  readonly interface: ModelInterface;
  /** Whether requests may share a run: every input has a variable first dimension. */
  readonly batchable: boolean;
  readonly #fetches: string[];
  /** The signature's column names, in order, for a single input that takes every column. */
  readonly #columnOrder: string[] | null;

  private constructor(
    private readonly session: ort.InferenceSession,
    iface: ModelInterface,
    readonly mlmodel: MlModel,
    readonly modelPath: string,
  ) {
    this.inputs = ortInputs(session, modelPath);
    this.interface = iface;
    this.outputs = (iface.outputs ?? []).filter((o) => o.kind !== "other");
    this.#fetches = this.outputs.map((o) => (o.kind === "zipmap" ? o.source : o.name));
    this.batchable = this.inputs.tensors.every((t) => t.shape && t.shape.length > 0 && t.shape[0] === -1);
    this.#columnOrder =
      iface.inputs.kind === "columns" ? iface.inputs.columns.map((c) => String(c.name)) : null;
  }

  /** Opens `dir` (an MLflow model directory with an onnx flavor). */
  static async load(dir: string, options: { intraOpThreads?: number } = {}): Promise<OnnxScorer> {
    if (!existsSync(join(dir, MLMODEL_FILE))) {
      throw userError(
        "MLmodelMissing",
        `${dir} is not an MLflow model directory: it has no ${MLMODEL_FILE} file`,
        "Point at the folder that holds MLmodel (the --out folder of `pier train`).",
      );
    }
    const mlmodel = readMlModel(dir);
    const flavor = mlmodel.flavors?.onnx as { data?: string } | undefined;
    if (!flavor?.data) {
      throw userError(
        "OnnxFlavorMissing",
        `${dir}/MLmodel has no onnx flavor`,
        "Serve this model with a runtime for its flavor, or export it to ONNX.",
        `Flavors: ${Object.keys(mlmodel.flavors ?? {}).join(", ") || "(none)"}`,
      );
    }
    const modelPath = resolve(dir, flavor.data);
    if (relative(resolve(dir), modelPath).startsWith("..")) {
      throw userError(
        "ArtifactPathEscapes",
        `The onnx flavor's data path '${flavor.data}' leaves the model folder`,
        "Keep model files inside the model directory.",
      );
    }
    const loadFailed = (error: unknown) =>
      userError(
        "OnnxLoadFailed",
        `ONNX Runtime could not load ${modelPath}`,
        "Check that the file is a complete ONNX model (not a Git LFS pointer) and that its opsets are supported.",
        (error as Error).message,
      );
    let bytes: Uint8Array;
    let iface: ModelInterface;
    try {
      bytes = readFileSync(modelPath);
      iface = modelInterface({
        flavors: mlmodel.flavors,
        signature: mlmodel.signature,
        readFile: (path) => (resolve(dir, path) === modelPath ? bytes : undefined),
      }).interface;
    } catch (error) {
      throw loadFailed(error);
    }
    const zipmaps = (iface.outputs ?? []).flatMap((o) => (o.kind === "zipmap" ? [o.source] : []));
    const options_: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
    };
    let session: ort.InferenceSession;
    try {
      session =
        zipmaps.length > 0
          ? await createRewritten(modelPath, exposeTensors(bytes, zipmaps), options_)
          : await ort.InferenceSession.create(modelPath, options_);
    } catch (error) {
      throw loadFailed(error);
    }
    return new OnnxScorer(session, iface, mlmodel, modelPath);
  }

  /** A request as checked tensors, one per ONNX input; throws a user PierError for one that does not fit. */
  tensorsOf(request: ModelRequest): Record<string, TensorData> {
    if ("tensors" in request) return checkTensors(this.inputs, request.tensors);
    const rows = "records" in request ? request.records : request.rows;
    if (!Array.isArray(rows) || rows.length === 0)
      throw userError("EmptyInput", "The request has no rows to score", "Send at least one row.");
    if ("rows" in request) return checkTensors(this.inputs, tensorsFromRows(this.inputs, request.rows));
    let records = request.records;
    if (records.some((r) => r === null || typeof r !== "object" || Array.isArray(r)))
      throw userError("BadRequest", "Every row must be an object of column values", "Send rows as records.");
    // A column model's records are checked by its signature (the gateway did; a direct call has not).
    if (this.interface.inputs.kind === "columns")
      records = enforceColumns(records, this.interface.inputs.columns);
    const single = this.inputs.tensors.length === 1 ? this.inputs.tensors[0]! : undefined;
    if (single && this.#columnOrder && !this.#columnOrder.includes(single.name)) {
      // One input takes every column, in the signature's order (MLflow feeds DataFrame.values).
      const order = this.#columnOrder;
      return checkTensors(
        this.inputs,
        tensorsFromRows(
          this.inputs,
          records.map((r) => order.map((c) => r[c] ?? null)),
        ),
      );
    }
    // One input per column: string inputs take null as "", float inputs as NaN.
    const filled = records.map((r) => {
      const out: Record<string, unknown> = { ...r };
      for (const t of this.inputs.tensors)
        if (t.dtype === "string" && (out[t.name] ?? null) === null && t.name in out) out[t.name] = "";
      return out;
    });
    return checkTensors(this.inputs, tensorsFromRecords(this.inputs, filled));
  }

  async #run(tensors: Record<string, TensorData>): Promise<Outputs> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.inputs.tensors)
      feeds[input.name] = toOrtTensor(input.dtype, tensors[input.name]!);
    const results = await this.session.run(feeds, this.#fetches);
    const out: Outputs = new Map();
    for (const name of this.#fetches) {
      const tensor = results[name] as ort.Tensor;
      out.set(name, { dims: [...tensor.dims], data: plainValues(tensor) });
    }
    return out;
  }

  /**
   * Scores requests that arrived together. When the model has a variable batch dimension and the
   * requests' other dimensions agree, they share one run (rows are independent) and each gets its
   * own rows back; otherwise, or if the shared run fails, each is run alone so that every request
   * gets its own answer or error.
   */
  async scoreMany(requests: readonly InvokeRequest[]): Promise<Scored[]> {
    const prepared = requests.map((request): { tensors: Record<string, TensorData> } | { error: unknown } => {
      try {
        return { tensors: this.tensorsOf(request) };
      } catch (error) {
        return { error };
      }
    });
    const valid = prepared.flatMap((p, i) => ("tensors" in p ? [i] : []));
    const answers: Scored[] = prepared.map((p) =>
      "error" in p ? { ok: false, error: p.error } : { ok: false, error: null },
    );
    const alone = async (i: number) => {
      try {
        const outputs = await this.#run((prepared[i] as { tensors: Record<string, TensorData> }).tensors);
        answers[i] = { ok: true, value: this.answer(outputs, requests[i]!) };
      } catch (error) {
        answers[i] = { ok: false, error };
      }
    };
    const together =
      valid.length > 1 && this.batchable
        ? this.#concatenate(
            valid.map((i) => (prepared[i] as { tensors: Record<string, TensorData> }).tensors),
          )
        : undefined;
    if (together) {
      try {
        const outputs = await this.#run(together.tensors);
        const split = this.#split(outputs, together.rows);
        if (split) {
          valid.forEach((i, k) => {
            answers[i] = { ok: true, value: this.answer(split[k]!, requests[i]!) };
          });
          return answers;
        }
      } catch {
        // Run each alone below: the failing one gets its own error.
      }
    }
    for (const i of valid) await alone(i);
    return answers;
  }

  /** Requests' tensors joined along the first axis, when every input's other dimensions agree. */
  #concatenate(
    list: Record<string, TensorData>[],
  ): { tensors: Record<string, TensorData>; rows: number[] } | undefined {
    const rows = list.map((t) => t[this.inputs.tensors[0]!.name]!.shape[0]!);
    const tensors: Record<string, TensorData> = {};
    for (const input of this.inputs.tensors) {
      const parts = list.map((t) => t[input.name]!);
      const tail = JSON.stringify(parts[0]!.shape.slice(1));
      if (parts.some((p, k) => JSON.stringify(p.shape.slice(1)) !== tail || p.shape[0] !== rows[k]))
        return undefined;
      tensors[input.name] = {
        shape: [rows.reduce((a, b) => a + b, 0), ...parts[0]!.shape.slice(1)],
        data: parts.length === 1 ? parts[0]!.data : parts.flatMap((p) => p.data),
      };
    }
    return { tensors, rows };
  }

  /** A shared run's outputs split back per request; undefined when an output is not one row per input row. */
  #split(outputs: Outputs, rows: number[]): Outputs[] | undefined {
    const total = rows.reduce((a, b) => a + b, 0);
    for (const value of outputs.values()) if (value.dims[0] !== total) return undefined;
    let offset = 0;
    return rows.map((n) => {
      const part: Outputs = new Map();
      for (const [name, value] of outputs) {
        const width = elementCount(value.dims.slice(1));
        part.set(name, {
          dims: [n, ...value.dims.slice(1)],
          data: value.data.slice(offset * width, (offset + n) * width),
        });
      }
      offset += n;
      return part;
    });
  }

  /** One run's outputs as the request's view wants them. */
  answer(outputs: Outputs, request: InvokeRequest): unknown {
    const wanted = request.outputs
      ? this.outputs.filter((o) => request.outputs!.includes(o.name))
      : this.outputs;
    return this.#view(outputs, wanted, request.view ?? "records");
  }

  #view(outputs: Outputs, wanted: ModelOutput[], view: AnswerView): unknown {
    const outputOf = (o: ModelOutput) => outputs.get(o.kind === "zipmap" ? o.source : o.name)!;
    const maps = (o: Extract<ModelOutput, { kind: "zipmap" }>, v: OutputValues) => {
      const classes = o.labels.length || (v.dims[1] ?? 0);
      return Array.from({ length: v.dims[0] ?? 0 }, (_, i) =>
        Object.fromEntries(
          Array.from({ length: classes }, (_, k) => [String(o.labels[k] ?? k), v.data[i * classes + k]]),
        ),
      );
    };
    const whole = (o: ModelOutput) => {
      const v = outputOf(o);
      return o.kind === "zipmap" ? maps(o, v) : toNested(v.data, v.dims);
    };
    if (view === "v2") {
      return wanted.map((o) => {
        const v = outputOf(o);
        const datatype = o.kind === "tensor" ? v2Datatype(o.dtype) : "FP32";
        return {
          name: o.name,
          datatype,
          shape: v.dims,
          data: v.data,
          ...(o.kind === "zipmap" ? { parameters: { classes: o.labels } } : {}),
        };
      });
    }
    if (view === "tensors") return Object.fromEntries(wanted.map((o) => [o.name, whole(o)]));
    if (view === "score")
      return wanted.length === 1
        ? whole(wanted[0]!)
        : Object.fromEntries(wanted.map((o) => [o.name, whole(o)]));
    // records: one object per row; an output with one value per row gives that value.
    const n = wanted.length > 0 ? (outputOf(wanted[0]!).dims[0] ?? 1) : 0;
    const columns = wanted.map((o) => {
      const v = outputOf(o);
      if (o.kind === "zipmap") return maps(o, v);
      const rest = v.dims.slice(1);
      const width = elementCount(rest);
      return Array.from({ length: v.dims[0] ?? 1 }, (_, i) =>
        rest.length === 0 || (rest.length === 1 && rest[0] === 1)
          ? v.data[i * width]
          : toNested(v.data, rest, i * width),
      );
    });
    return Array.from({ length: n }, (_, i) =>
      Object.fromEntries(wanted.map((o, k) => [o.name, columns[k]![i]])),
    );
  }

  /** Scores column records (pier's own checks and tools); returns one row per record. */
  async score(records: readonly Record<string, unknown>[]): Promise<PredictionRow[]> {
    const [answer] = await this.scoreMany([
      { records: records as Record<string, unknown>[], view: "records" },
    ]);
    if (!answer!.ok) throw answer!.error;
    return answer!.value as PredictionRow[];
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
