/**
 * A model's interface: what requests must carry (named columns, tensors, or anything for a model that
 * declares nothing) and what answers hold. An ONNX model's graph is the truth for what runs; its MLflow
 * signature says how callers see it, and where the two disagree that is a finding. Other models
 * declare their interface by their signature alone.
 */
import type { Finding } from "../shared/index.js";
import type { ColumnSpec, MlModel, SchemaEntry, TensorSpec } from "./mlmodel.js";
import { type OnnxGraphInterface, type OnnxOutput, readOnnxInterface } from "./onnx/graph.js";
import { parseSchema } from "./signature.js";
import { dtypeOfNumpy, formatShape, type TensorDecl, v2Datatype } from "./tensors.js";

export type ModelInputs =
  /** Named columns: records, checked and cast by the signature (an MLflow column-based signature). */
  | { kind: "columns"; columns: ColumnSpec[] }
  /**
   * Tensors, by name. `named` is false for one unnamed tensor (an MLflow tensor signature without a
   * name): any single input then feeds it.
   */
  | { kind: "tensors"; tensors: TensorDecl[]; named: boolean }
  /** Nothing declared: requests pass to the model as they are. */
  | { kind: "any" };

/** An output: a tensor, a ZipMap's per-class probabilities, or a value pier cannot return. */
export type ModelOutput = OnnxOutput;

export interface ModelInterface {
  inputs: ModelInputs;
  /** null when the model does not declare them (a Python model without signature outputs). */
  outputs: ModelOutput[] | null;
}

/** What the interface is read from: MLmodel's flavors and signature, and a way to read a model file. */
export interface InterfaceSource {
  flavors: MlModel["flavors"];
  signature?: MlModel["signature"] | null;
  /** A file of the model folder by its relative path; undefined when it is not there. */
  readFile: (path: string) => Uint8Array | undefined;
}

const entriesOf = (text: string | null | undefined): SchemaEntry[] | null => {
  if (typeof text !== "string") return null;
  const parsed = parseSchema(text);
  return "entries" in parsed ? parsed.entries : null;
};

const isTensorSpec = (e: SchemaEntry): e is TensorSpec => e.type === "tensor";

/** The tensors of a tensor-based signature; unnamed ones are called "input". */
function signatureTensors(entries: TensorSpec[]): TensorDecl[] {
  return entries.map((e, i) => ({
    name: e.name ?? (entries.length === 1 ? "input" : `input_${i}`),
    dtype: dtypeOfNumpy(e["tensor-spec"].dtype) ?? "float64",
    shape: e["tensor-spec"].shape,
  }));
}

function signatureInputs(entries: SchemaEntry[] | null): ModelInputs {
  if (!entries) return { kind: "any" };
  if (entries.every(isTensorSpec))
    return { kind: "tensors", tensors: signatureTensors(entries), named: entries.every((e) => e.name) };
  if (entries.every((e) => e.name !== undefined && e.name !== null))
    return { kind: "columns", columns: entries as ColumnSpec[] };
  return { kind: "any" };
}

function signatureOutputs(entries: SchemaEntry[] | null): ModelOutput[] | null {
  if (!entries) return null;
  return entries.map((e, i) =>
    isTensorSpec(e)
      ? {
          kind: "tensor",
          ...signatureTensors([e])[0]!,
          name: e.name ?? (entries.length === 1 ? "output" : `output_${i}`),
        }
      : { kind: "other", name: String(e.name ?? i), type: e.type },
  );
}

/** The ONNX graph of an onnx-flavor model, or why it cannot be read. */
export function onnxGraph(source: InterfaceSource): OnnxGraphInterface | { problem: string } {
  const data = source.flavors.onnx?.data;
  if (typeof data !== "string") return { problem: "the onnx flavor names no data file" };
  const bytes = source.readFile(data);
  if (!bytes) return { problem: `${data} is not in the model folder` };
  try {
    return readOnnxInterface(bytes);
  } catch (error) {
    return { problem: `${data} is not an ONNX model (${(error as Error).message})` };
  }
}

/** The model's interface; for ONNX models, also where the signature disagrees with the graph. */
export function modelInterface(source: InterfaceSource): { interface: ModelInterface; findings: Finding[] } {
  const inputs = entriesOf(source.signature?.inputs);
  const outputs = entriesOf(source.signature?.outputs);
  const declared: ModelInterface = { inputs: signatureInputs(inputs), outputs: signatureOutputs(outputs) };
  if (!source.flavors.onnx) return { interface: declared, findings: [] };
  const graph = onnxGraph(source);
  if ("problem" in graph) return { interface: declared, findings: [] };
  const iface: ModelInterface = {
    inputs:
      declared.inputs.kind === "columns"
        ? declared.inputs
        : { kind: "tensors", tensors: graph.inputs, named: true },
    outputs: graph.outputs,
  };
  return { interface: iface, findings: graphFindings(graph, inputs, source.flavors.onnx.data as string) };
}

const evidence = (key: string, value?: string) => ({ file: "MLmodel", key, ...(value ? { value } : {}) });

/** Where an MLflow signature and the ONNX graph it describes disagree. */
function graphFindings(graph: OnnxGraphInterface, entries: SchemaEntry[] | null, file: string): Finding[] {
  const findings: Finding[] = [];
  const graphText = graph.inputs.map((t) => `${t.name} ${t.dtype} ${formatShape(t.shape)}`).join(", ");
  for (const input of graph.unsupportedInputs) {
    findings.push({
      code: "OnnxInputUnsupported",
      severity: "error",
      message: `ONNX input '${input.name}' is a ${input.type}, which no JSON request can carry`,
      evidence: { file, key: `graph.input ${input.name}`, value: input.type },
      fix: "Export the model with tensor inputs.",
    });
  }
  for (const output of graph.outputs) {
    if (output.kind !== "other") continue;
    findings.push({
      code: "OnnxOutputUnsupported",
      severity: "warning",
      message: `ONNX output '${output.name}' is a ${output.type} that no ZipMap makes; ONNX Runtime for Node cannot return it, so answers leave it out`,
      evidence: { file, key: `graph.output ${output.name}`, value: output.type },
      fix: "Export the model with tensor outputs (for skl2onnx classifiers: options={'zipmap': False}).",
    });
  }
  if (!entries) return findings;
  const mismatch = (message: string, fix: string, severity: Finding["severity"] = "error") =>
    findings.push({
      code: "SignatureGraphMismatch",
      severity,
      message,
      evidence: evidence("signature.inputs", graphText.slice(0, 120)),
      fix,
    });
  const relog =
    "Log the model again with a signature inferred from the inputs the graph takes (mlflow.models.infer_signature).";
  if (entries.every(isTensorSpec)) {
    const declared = signatureTensors(entries);
    if (declared.length !== graph.inputs.length) {
      mismatch(
        `the signature declares ${declared.length} input tensor(s), the ONNX graph takes ${graph.inputs.length} (${graphText})`,
        relog,
      );
      return findings;
    }
    declared.forEach((d, i) => {
      const named = entries[i]!.name !== undefined && entries[i]!.name !== null;
      const g = named ? graph.inputs.find((t) => t.name === d.name) : graph.inputs[i];
      if (!g) {
        mismatch(`the signature's input '${d.name}' is not an input of the ONNX graph (${graphText})`, relog);
        return;
      }
      if (d.dtype !== g.dtype) {
        // MLflow's ONNX flavor casts float64 to float32 (mlflow/onnx/__init__.py, _cast_float64_to_float32).
        const cast = d.dtype === "float64" && g.dtype === "float32";
        mismatch(
          `the signature types input '${g.name}' as ${d.dtype}, the ONNX graph as ${g.dtype}${cast ? "; requests are cast to float32, as MLflow does" : ""}`,
          relog,
          cast ? "warning" : "error",
        );
      }
      if (d.shape && g.shape) {
        const rank = d.shape.length !== g.shape.length;
        const dims = !rank && d.shape.some((n, k) => n >= 0 && g.shape![k]! >= 0 && n !== g.shape![k]);
        if (rank || dims)
          mismatch(
            `the signature gives input '${g.name}' shape ${formatShape(d.shape)}, the ONNX graph ${formatShape(g.shape)}`,
            relog,
          );
      }
    });
    return findings;
  }
  const columns = entries as ColumnSpec[];
  const names = columns.map((c) => String(c.name));
  const perColumn = names.every((n) => graph.inputs.some((t) => t.name === n));
  const single = graph.inputs.length === 1 ? graph.inputs[0]! : undefined;
  const width = single?.shape && single.shape.length === 2 ? single.shape[1]! : -1;
  if (!perColumn && !(single && (width === names.length || width < 0))) {
    mismatch(
      `the signature's columns (${names.join(", ")}) are neither the ONNX graph's inputs nor the width of its one input (${graphText})`,
      relog,
    );
  }
  return findings;
}

/** How an interface's inputs read, for people: "input float32 [-1, 10]" or the columns. */
function describeInputs(inputs: ModelInputs): string {
  if (inputs.kind === "any") return "anything (the model declares no inputs)";
  if (inputs.kind === "columns")
    return `${inputs.columns.length} named column(s): ${inputs.columns.map((c) => `${c.name} (${c.type})`).join(", ")}`;
  return inputs.tensors.map((t) => `${t.name} ${t.dtype} ${formatShape(t.shape)}`).join(", ");
}

/** How outputs read, for people. */
function describeOutputs(outputs: ModelOutput[] | null): string {
  if (!outputs) return "as the model returns them (no signature outputs)";
  return outputs
    .map((o) =>
      o.kind === "tensor"
        ? `${o.name} ${o.dtype} ${formatShape(o.shape)}`
        : o.kind === "zipmap"
          ? `${o.name} (per-class probabilities of ${o.labels.length} classes, from a ZipMap)`
          : `${o.name} (${o.type}, not returned)`,
    )
    .join(", ");
}

/** One row of zeros (or "") for a declared tensor, with every variable dimension 1. */
function zeros(t: TensorDecl): unknown {
  const zero = t.dtype === "string" ? "" : t.dtype === "bool" ? false : 0;
  const build = (dims: number[]): unknown =>
    dims.length === 0 ? zero : Array.from({ length: dims[0]! }, () => build(dims.slice(1)));
  return build((t.shape ?? [1]).map((d) => (d < 0 ? 1 : d)));
}

/** Shortens long arrays in a JSON text ([0, 0, … 25 values]) so that an example stays one line. */
function compact(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    Array.isArray(v) && v.length > 4 && v.every((x) => typeof x === "number" || typeof x === "boolean")
      ? [...v.slice(0, 3), `… ${v.length} values`]
      : v,
  ).replace(/"… (\d+) values"/g, "… $1 values");
}

/**
 * The request bodies a model accepts, one example per protocol route, for people to copy (the
 * preflight, `pier doctor --model`, `pier model validate`).
 */
/** A value of zero (or "", false) for each column of a column model: one row. */
const zeroRow = (columns: readonly ColumnSpec[]) =>
  columns.map((c) => (c.type === "string" ? "" : c.type === "boolean" ? false : 0));

/** A body Azure's /score takes for this model (one row of zeros); undefined for a model that declares nothing. */
/** An MLflow input example (a split frame, records, `inputs`) as a /score body; undefined when there is none. */
export function exampleScoreBody(example: unknown): unknown {
  if (example === null || example === undefined) return undefined;
  if (typeof example === "object" && !Array.isArray(example)) {
    const e = example as Record<string, unknown>;
    if (Array.isArray(e.data) && Array.isArray(e.columns))
      return { input_data: { columns: e.columns, index: e.data.map((_, i) => i), data: e.data } };
    if ("inputs" in e) return { input_data: e.inputs };
    if ("dataframe_split" in e) return exampleScoreBody(e.dataframe_split);
  }
  return Array.isArray(example) ? { input_data: example } : undefined;
}

export function scoreExample(iface: ModelInterface): unknown {
  const inputs = iface.inputs;
  if (inputs.kind === "any") return undefined;
  if (inputs.kind === "columns")
    return {
      input_data: {
        columns: inputs.columns.map((c) => String(c.name)),
        index: [0],
        data: [zeroRow(inputs.columns)],
      },
    };
  return {
    input_data:
      inputs.tensors.length === 1
        ? zeros(inputs.tensors[0]!)
        : Object.fromEntries(inputs.tensors.map((t) => [t.name, zeros(t)])),
  };
}

function requestExamples(iface: ModelInterface, modelName: string): { route: string; body: string }[] {
  const inputs = iface.inputs;
  if (inputs.kind === "any")
    return [
      { route: "/score", body: '{"input_data": [[…row values…]]}' },
      { route: "/invocations", body: '{"dataframe_split": {"columns": [...], "data": [[…]]}}' },
    ];
  if (inputs.kind === "columns") {
    const sample = (type: string) => (type === "string" ? "" : type === "boolean" ? false : 0);
    const names = inputs.columns.map((c) => String(c.name));
    const row = zeroRow(inputs.columns);
    return [
      { route: "/score", body: compact(scoreExample(iface)) },
      { route: "/invocations", body: compact({ dataframe_split: { columns: names, data: [row] } }) },
      {
        route: "/invocations",
        body: compact({ dataframe_records: [Object.fromEntries(names.map((n, i) => [n, row[i]]))] }),
      },
      { route: "/invocations (text/csv)", body: `${names.join(",")}\\n${row.join(",")}` },
      {
        route: `/v2/models/${modelName}/infer`,
        body: compact({
          inputs: inputs.columns.map((c) => ({
            name: String(c.name),
            shape: [1],
            datatype:
              c.type === "string"
                ? "BYTES"
                : c.type === "boolean"
                  ? "BOOL"
                  : c.type === "long"
                    ? "INT64"
                    : "FP64",
            data: [sample(c.type)],
          })),
        }),
      },
    ];
  }
  const one = inputs.tensors.length === 1 ? inputs.tensors[0]! : undefined;
  const named = Object.fromEntries(inputs.tensors.map((t) => [t.name, zeros(t)]));
  const examples = [
    { route: "/score", body: compact(scoreExample(iface)) },
    { route: "/invocations", body: compact({ inputs: one ? zeros(one) : named }) },
  ];
  if (one && (one.shape?.length ?? 0) === 2) {
    examples.push({ route: "/invocations", body: compact({ dataframe_split: { data: zeros(one) } }) });
    examples.push({
      route: "/invocations (text/csv)",
      body: `${Array.from({ length: Math.max(1, one.shape![1]!) }, (_, i) => `f${i}`).join(",")}\\n…`,
    });
  }
  examples.push({
    route: `/v2/models/${modelName}/infer`,
    body: compact({
      inputs: inputs.tensors.map((t) => {
        const shape = (t.shape ?? [1]).map((d) => (d < 0 ? 1 : d));
        return {
          name: t.name,
          shape,
          datatype: v2Datatype(t.dtype),
          data: (zeros(t) as unknown[]).flat(Number.POSITIVE_INFINITY),
        };
      }),
    }),
  });
  return examples;
}

/** The interface in lines for people: inputs, outputs, and a request body for each route. */
export function interfaceLines(iface: ModelInterface, modelName: string): string[] {
  return [
    `inputs: ${describeInputs(iface.inputs)}`,
    `outputs: ${describeOutputs(iface.outputs)}`,
    ...requestExamples(iface, modelName).map((e) => `request: POST …${e.route} ${e.body}`),
  ];
}
