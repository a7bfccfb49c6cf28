export {
  type HostErrorBody,
  type HostLoadError,
  type HostMessage,
  type InvokeRequest,
  parseHostMessage,
} from "./host-protocol.js";
export {
  type HostedModel,
  type InstanceCommand,
  type LaidOutFile,
  type PreparedHost,
  prepareHost,
  type ScriptCode,
} from "./host-selection.js";
export {
  encodeFrame,
  FrameDecoder,
  INVOKE_CHANNEL_FD,
  type InstanceClient,
  InvokeChannelClient,
  type InvokeOutcome,
} from "./invoke-channel.js";
export { HttpInvokeClient } from "./invoke-http.js";
export { type EdgeCaseResult, LATENCY_GATES, type LocalTestReport, runLocalTest } from "./local-test.js";
export { OnnxScorer, type PredictionRow } from "./onnx-scorer.js";
