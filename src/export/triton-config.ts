/**
 * Triton's model configuration (config.pbtxt, the text form of model_config.proto's ModelConfig) for
 * an ONNX model handed to kserve-tritonserver, written from the graph itself: platform
 * onnxruntime_onnx, each input and output with its TYPE_ and dims. A model whose every input and
 * output is at least 2-D with a free first dimension batches (max_batch_size, dynamic_batching, dims
 * without the batch dimension); any other takes its shapes as they are (max_batch_size 0). Outputs
 * Triton cannot return (ZipMap's maps, sequences) are left out and named, and a config is checked
 * against the graph it describes.
 */
import { type OnnxGraphInterface, v2Datatype } from "../model/index.js";

/** TYPE_ names of model_config.proto's DataType, from the Open Inference Protocol's datatypes. */
const tritonType = (v2: string): string => (v2 === "BYTES" ? "TYPE_STRING" : `TYPE_${v2}`);
/** The largest batch pier writes for a batching model: Triton's dynamic batcher forms batches up to it. */
const TRITON_MAX_BATCH = 64;

export interface TritonTensor {
  name: string;
  data_type: string;
  dims: number[];
}

export interface TritonConfig {
  name: string;
  platform: "onnxruntime_onnx";
  max_batch_size: number;
  input: TritonTensor[];
  output: TritonTensor[];
  /** What the graph has that the config cannot say, in words (left out of the config). */
  leftOut: string[];
}

export function tritonConfig(name: string, graph: OnnxGraphInterface): TritonConfig {
  const tensors = graph.outputs.flatMap((o) => (o.kind === "tensor" ? [o] : []));
  const shaped = [...graph.inputs, ...tensors];
  const batches =
    shaped.length > 0 && shaped.every((t) => t.shape !== null && t.shape.length >= 2 && t.shape[0] === -1);
  const describe = (t: (typeof shaped)[number]): TritonTensor => ({
    name: t.name,
    data_type: tritonType(v2Datatype(t.dtype)),
    dims: batches ? t.shape!.slice(1) : (t.shape ?? [-1]),
  });
  return {
    name,
    platform: "onnxruntime_onnx",
    max_batch_size: batches ? TRITON_MAX_BATCH : 0,
    input: graph.inputs.map(describe),
    output: tensors.map(describe),
    leftOut: [
      ...graph.unsupportedInputs.map((i) => `input ${i.name} (${i.type})`),
      ...graph.outputs.flatMap((o) =>
        o.kind === "zipmap"
          ? [`output ${o.name} (ZipMap: a sequence of maps; its probabilities are ${o.source})`]
          : o.kind === "other"
            ? [`output ${o.name} (${o.type})`]
            : [],
      ),
    ],
  };
}

/** The config in protobuf text format, as Triton reads config.pbtxt. */
export function configText(config: TritonConfig): string {
  const tensor = (t: TritonTensor) =>
    `  {\n    name: ${JSON.stringify(t.name)}\n    data_type: ${t.data_type}\n    dims: [ ${t.dims.join(", ")} ]\n  }`;
  return [
    `name: ${JSON.stringify(config.name)}`,
    `platform: "${config.platform}"`,
    `max_batch_size: ${config.max_batch_size}`,
    `input [\n${config.input.map(tensor).join(",\n")}\n]`,
    `output [\n${config.output.map(tensor).join(",\n")}\n]`,
    ...(config.max_batch_size > 0 ? ["dynamic_batching { }"] : []),
    "",
  ].join("\n");
}

/** Reads the parts of a config.pbtxt pier writes (name, platform, max_batch_size, inputs and outputs). */
export function parseConfigText(text: string): Omit<TritonConfig, "leftOut"> {
  const value = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, "m").exec(text)?.[1]?.trim();
  const block = (key: string) => {
    const start = new RegExp(`^${key}\\s*\\[`, "m").exec(text);
    if (!start) return [];
    const body = text.slice(start.index + start[0].length, text.indexOf("\n]", start.index));
    return [...body.matchAll(/\{([^}]*)\}/g)].map(([, inner]) => ({
      name: JSON.parse(/name:\s*("[^"]*")/.exec(inner!)?.[1] ?? '""') as string,
      data_type: /data_type:\s*(\w+)/.exec(inner!)?.[1] ?? "",
      dims: (/dims:\s*\[([^\]]*)\]/.exec(inner!)?.[1] ?? "")
        .split(",")
        .map((d) => d.trim())
        .filter(Boolean)
        .map(Number),
    }));
  };
  return {
    name: JSON.parse(value("name") ?? '""') as string,
    platform: (value("platform") ?? "").replaceAll('"', "") as "onnxruntime_onnx",
    max_batch_size: Number(value("max_batch_size") ?? 0),
    input: block("input"),
    output: block("output"),
  };
}

/** Where a config.pbtxt and the model's graph disagree, in words (Triton refuses to load the model). */
export function checkTritonConfig(text: string, graph: OnnxGraphInterface, folderName: string): string[] {
  const config = parseConfigText(text);
  const expected = tritonConfig(folderName, graph);
  const problems: string[] = [];
  if (config.name !== folderName)
    problems.push(`name "${config.name}" is not the model's folder name "${folderName}"`);
  if (config.platform !== "onnxruntime_onnx")
    problems.push(`platform "${config.platform}" is not onnxruntime_onnx`);
  const batch = config.max_batch_size > 0;
  if (batch && expected.max_batch_size === 0)
    problems.push(
      `max_batch_size ${config.max_batch_size}: the graph has a tensor without a free first (batch) dimension`,
    );
  for (const [kind, declared, actual] of [
    ["input", config.input, graph.inputs],
    ["output", config.output, graph.outputs.flatMap((o) => (o.kind === "tensor" ? [o] : []))],
  ] as const) {
    for (const t of declared) {
      const real = actual.find((a) => a.name === t.name);
      if (!real) {
        problems.push(`${kind} ${t.name} is not in the graph (${actual.map((a) => a.name).join(", ")})`);
        continue;
      }
      const type = tritonType(v2Datatype(real.dtype));
      if (t.data_type !== type)
        problems.push(`${kind} ${t.name}: data_type ${t.data_type}, the graph has ${type}`);
      const dims = real.shape === null ? null : batch ? real.shape.slice(1) : real.shape;
      if (dims && (dims.length !== t.dims.length || dims.some((d, i) => d !== -1 && d !== t.dims[i])))
        problems.push(
          `${kind} ${t.name}: dims [${t.dims.join(", ")}], the graph has [${dims.join(", ")}]${batch ? " after the batch dimension" : ""}`,
        );
    }
    if (kind === "input")
      for (const a of actual)
        if (!declared.some((t) => t.name === a.name))
          problems.push(`input ${a.name} of the graph is not in the config`);
  }
  return problems;
}
