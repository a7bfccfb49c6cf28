export { authenticate } from "./authenticate.js";
export {
  type Batch,
  formatResponse,
  type Parsed,
  type Protocol,
  parseInvocationsBody,
  parseRequest,
  parseScoreBody,
  parseV2Body,
} from "./formats.js";
export { forward, instanceError } from "./forward.js";
export {
  createGateway,
  type Gateway,
  type GatewayOptions,
  MAX_BODY_BYTES,
  matchGatewayPath,
} from "./gateway.js";
export { HttpError } from "./http-error.js";
export { createMetrics, type GatewayMetrics } from "./metrics.js";
export { RequestStats } from "./request-stats.js";
export { type Draw, drawByWeight, drawMirrors, route } from "./traffic-draw.js";
