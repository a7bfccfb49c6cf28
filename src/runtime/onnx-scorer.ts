/**
 * Loads an MLflow `onnx`-flavor model directory into ONNX Runtime and scores column records,
 * enforcing the signature as MLflow does: missing columns are an error naming them, extra columns are
 * dropped, numbers may be widened (int → double) but never silently turned into or out of strings.
 */
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import {
  type ColumnSpec,
  type ColumnType,
  incompatibleInput,
  MLMODEL_FILE,
  type MlModel,
  readMlModel,
  requireColumns,
} from "../model/index.js";
import { userError } from "../shared/index.js";

/** One row of a prediction: each model output's value for that row. */
export type PredictionRow = Record<string, number | string | number[] | string[]>;

interface FeedSpec {
  name: string;
  type: "float64" | "float32" | "int64" | "int32" | "string" | "bool";
  /** [N] or [N, 1] */
  rank: 1 | 2;
  /** The input as a signature column, for the one request check (model/enforce.ts). */
  column: ColumnSpec;
}

/** The MLflow column type each ONNX input type takes. */
const COLUMN_TYPES: Record<FeedSpec["type"], ColumnType> = {
  float64: "double",
  float32: "float",
  int64: "long",
  int32: "integer",
  string: "string",
  bool: "boolean",
};

export class OnnxScorer {
  readonly feeds: FeedSpec[];
  readonly outputNames: readonly string[];

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly mlmodel: MlModel,
    readonly modelPath: string,
  ) {
    this.feeds = session.inputMetadata.map((meta) => {
      if (!meta.isTensor || !(meta.type in COLUMN_TYPES)) {
        throw userError(
          "OnnxInputUnsupported",
          `ONNX input '${meta.name}' of ${modelPath} has a type pier cannot feed from JSON`,
          "Export the model with double, float, int64 or string column inputs.",
        );
      }
      const type = meta.type as FeedSpec["type"];
      return {
        name: meta.name,
        type,
        rank: meta.shape.length === 2 ? 2 : 1,
        column: { name: meta.name, type: COLUMN_TYPES[type] },
      };
    });
    this.outputNames = session.outputNames;
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
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
      });
    } catch (error) {
      throw userError(
        "OnnxLoadFailed",
        `ONNX Runtime could not load ${modelPath}`,
        "Check that the file is a complete ONNX model (not a Git LFS pointer) and that its opsets are supported.",
        (error as Error).message,
      );
    }
    return new OnnxScorer(session, mlmodel, modelPath);
  }

  /** Scores a batch of column records. Throws a user PierError for input the model cannot take. */
  async score(records: readonly Record<string, unknown>[]): Promise<PredictionRow[]> {
    if (!Array.isArray(records) || records.length === 0) {
      throw userError("EmptyInput", "The request has no rows to score", "Send at least one row.");
    }
    if (records.some((r) => r === null || typeof r !== "object"))
      throw userError("BadRequest", "Every row must be an object of column values", "Send rows as records.");
    requireColumns(
      records,
      this.feeds.map((f) => f.column),
    );
    const feeds: Record<string, ort.Tensor> = {};
    for (const feed of this.feeds) feeds[feed.name] = buildTensor(feed, records);
    const results = await this.session.run(feeds);
    return toRows(results, this.outputNames, records.length);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

const typeMismatch = (feed: FeedSpec, value: unknown, row: number) =>
  incompatibleInput(feed.column, value, row);

function buildTensor(feed: FeedSpec, records: readonly Record<string, unknown>[]): ort.Tensor {
  const n = records.length;
  const dims = feed.rank === 2 ? [n, 1] : [n];
  if (feed.type === "string") {
    const values = records.map((r, i) => {
      const v = r[feed.name];
      if (v === null || v === undefined) return "";
      if (typeof v !== "string") throw typeMismatch(feed, v, i);
      return v;
    });
    return new ort.Tensor("string", values, dims);
  }
  if (feed.type === "bool") {
    return new ort.Tensor(
      "bool",
      Uint8Array.from(records, (r, i) => {
        const v = r[feed.name];
        if (typeof v !== "boolean") throw typeMismatch(feed, v, i);
        return v ? 1 : 0;
      }),
      dims,
    );
  }
  const numbers = records.map((r, i) => {
    const v = r[feed.name];
    if (v === null || v === undefined) {
      if (feed.type === "float64" || feed.type === "float32") return Number.NaN;
      throw typeMismatch(feed, v, i);
    }
    if (typeof v !== "number") throw typeMismatch(feed, v, i);
    if ((feed.type === "int64" || feed.type === "int32") && !Number.isInteger(v))
      throw typeMismatch(feed, v, i);
    return v;
  });
  switch (feed.type) {
    case "float64":
      return new ort.Tensor("float64", Float64Array.from(numbers), dims);
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(numbers), dims);
    case "int64":
      return new ort.Tensor(
        "int64",
        BigInt64Array.from(numbers, (v) => BigInt(v)),
        dims,
      );
    default:
      return new ort.Tensor("int32", Int32Array.from(numbers), dims);
  }
}

function toRows(
  results: ort.InferenceSession.OnnxValueMapType,
  outputNames: readonly string[],
  n: number,
): PredictionRow[] {
  const rows: PredictionRow[] = Array.from({ length: n }, () => ({}));
  for (const name of outputNames) {
    const tensor = results[name] as ort.Tensor;
    const data = tensor.data as ArrayLike<number | bigint | string>;
    const width = tensor.dims.length > 1 ? tensor.dims.slice(1).reduce((a, b) => a * b, 1) : 1;
    const plain = (v: number | bigint | string) => (typeof v === "bigint" ? Number(v) : v);
    for (let i = 0; i < n; i++) {
      if (tensor.dims.length <= 1) rows[i]![name] = plain(data[i]!) as number | string;
      else
        rows[i]![name] = Array.from({ length: width }, (_, k) => plain(data[i * width + k]!)) as
          | number[]
          | string[];
    }
  }
  return rows;
}
