export { authenticate } from "./authenticate.js";
export type { CapturedExchange, CaptureTap, Collector } from "./capture-tap.js";
export { captureStep, requestIds } from "./data-plane.js";
export { instanceError } from "./forward.js";
export { createGateway, matchGatewayPath } from "./gateway.js";
export { HttpError } from "./http-error.js";
export { createMetrics } from "./metrics.js";
export { OFFLOAD_BYTES, PreparePool } from "./prepare-pool.js";
export { formatResponse, parseRequest } from "./protocols/all.js";
export { RequestStats } from "./request-stats.js";
export {
  type Answer,
  type FailureKind,
  type Observed,
  type RolloutTap,
  serveInRollout,
  shadowCompare,
} from "./rollout-tap.js";
export { drawByWeight, drawMirrors, route } from "./traffic-draw.js";
