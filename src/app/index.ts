export { createPier, hostAllowed, type Pier } from "./create-pier.js";
export { localRequest } from "./fetch.js";
export { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-server.js";
