export { ApiClient } from "./client.js";
export {
  createDefaultWorkload,
  DEFAULT_DEPLOYMENT,
  DEFAULT_ENDPOINT,
  DEFAULT_MODEL_NAME,
  type DefaultWorkload,
} from "./default-workload.js";
export { apiRoutes, type DeploymentReport, matchRoute } from "./routes.js";
export {
  API_TOKEN_FILE,
  type RunningServer,
  type ServerOptions,
  startServer,
  UP_FILE,
  type UpInfo,
} from "./server.js";
