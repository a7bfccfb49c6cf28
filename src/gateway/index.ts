export { createGateway, type Gateway, MAX_BODY_BYTES } from "./gateway.js";
export { HttpError } from "./http-error.js";
export { createMetrics, type GatewayMetrics } from "./metrics.js";
