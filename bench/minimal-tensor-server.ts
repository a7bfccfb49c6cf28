/**
 * The baseline for tensor models: a minimal Node HTTP server that runs onnxruntime-node in its own
 * process, one session.run per request ({"inputs": [[…]]} on a model with one float32 input), with
 * no checks, no auth, no routing, no admission and no second hop.
 */
import * as ort from "onnxruntime-node";
import { serveMinimal } from "./minimal-http.js";

const session = await ort.InferenceSession.create(process.argv[2]!, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
});
const input = session.inputNames[0]!;
serveMinimal(async (body) => {
  const rows = (body as { inputs: number[][] }).inputs;
  const feed = new ort.Tensor("float32", Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);
  const results = await session.run({ [input]: feed });
  const predictions = Object.fromEntries(
    Object.entries(results).map(([name, t]) => {
      const width = t.dims[1] ?? 1;
      const data = Array.from(t.data as Float32Array);
      return [name, Array.from({ length: t.dims[0]! }, (_, i) => data.slice(i * width, (i + 1) * width))];
    }),
  );
  return { predictions };
});
