export {
  type AnswerView,
  FAILURE_HEADER,
  type HostErrorBody,
  type HostLoadError,
  INSTANCE_TOKEN_HEADER,
  type InvokeRequest,
  type ModelFailure,
  parseFailure,
  parseHostMessage,
  type ScriptRequest,
  type ScriptResponse,
  type ScriptSwagger,
} from "./host-protocol.js";
export {
  type InstanceCommand,
  type LaidOutFile,
  prepareHost,
  type ScriptCode,
} from "./host-selection.js";
export {
  INVOKE_CHANNEL_FD,
  type InstanceClient,
  InvokeChannelClient,
} from "./invoke-channel.js";
export { HttpInvokeClient } from "./invoke-http.js";
export { runLocalTest } from "./local-test.js";
export { OnnxScorer } from "./onnx-scorer.js";
export { WarmPythons } from "./warm-python.js";
