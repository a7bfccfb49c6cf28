export { type EdgeCaseResult, LATENCY_GATES, type LocalTestReport, runLocalTest } from "./local-test.js";
export { OnnxScorer, type PredictionRow } from "./onnx-scorer.js";
