export { OnnxScorer, type PredictionRow } from "./onnx-scorer.js";
