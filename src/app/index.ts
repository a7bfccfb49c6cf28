export { createPier, hostAllowed, type Pier } from "./create-pier.js";
export { localRequest } from "./fetch.js";
export { DEFAULT_HTTP_LIMITS } from "./http-server.js";
