/**
 * The practical limit for the gateway benchmark: a minimal Node HTTP server that scores with
 * onnxruntime-node in its own process, with no auth, routing, admission or second hop.
 */
import { OnnxScorer } from "../src/runtime/index.js";
import { serveMinimal } from "./minimal-http.js";

const scorer = await OnnxScorer.load(process.argv[2]!);
serveMinimal((body) => scorer.score((body as { input_data: Record<string, unknown>[] }).input_data));
