export { ApiClient } from "./client.js";
export { Dashboard } from "./dashboard.js";
export { ensureDefaultWorkload, tryDefaultEndpoint } from "./default-workload.js";
export { UP_FILE, type UpInfo } from "./files.js";
export { apiToken, createManagementApi } from "./management.js";
export { apiRoutes, type DeploymentReport, doctorOf, matchRoute } from "./routes.js";
