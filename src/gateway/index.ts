export { authenticate } from "./authenticate.js";
export type { CapturedExchange, CaptureTap, Collector } from "./capture-tap.js";
export {
  formatResponse,
  parseRequest,
} from "./formats.js";
export { instanceError } from "./forward.js";
export {
  createGateway,
  matchGatewayPath,
} from "./gateway.js";
export { HttpError } from "./http-error.js";
export { createMetrics } from "./metrics.js";
export { OFFLOAD_BYTES, PreparePool } from "./prepare-pool.js";
export { RequestStats } from "./request-stats.js";
export type { FailureKind, Observed, RolloutTap } from "./rollout-tap.js";
export { drawByWeight, drawMirrors, route } from "./traffic-draw.js";
