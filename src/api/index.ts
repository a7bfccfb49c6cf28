export { BODIES } from "./bodies.js";
export { ApiClient } from "./client.js";
export {
  type DeploymentReport,
  pathFor,
  ROUTES,
  type RouteName,
  routeFor,
} from "./contract.js";
export { Dashboard } from "./dashboard.js";
export { ensureDefaultWorkload, tryDefaultEndpoint } from "./default-workload.js";
export { UP_FILE, type UpInfo } from "./files.js";
export { apiToken, createManagementApi } from "./management.js";
export { doctorOf } from "./reports.js";
export { matchRoute } from "./router.js";
export { bearerOf, scoreRequest } from "./scoring.js";
