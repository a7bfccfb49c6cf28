export { ApiClient } from "./client.js";
export { ensureDefaultWorkload, tryDefaultEndpoint } from "./default-workload.js";
export { apiRoutes, type DeploymentReport, matchRoute } from "./routes.js";
export {
  startServer,
  UP_FILE,
  type UpInfo,
} from "./server.js";
