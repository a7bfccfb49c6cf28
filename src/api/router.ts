/**
 * The management API's routes: the contract's table (contract.ts) with one handler per route, split
 * by noun (routes/), and the dispatch of a request to its handler, its body checked by the route's
 * schema (bodies.ts) and its path's parameters decoded.
 */
import { checkSpec } from "../config/index.js";
import type { ProgressEvent } from "../engine/index.js";
import { decodePathSegment, PierError } from "../shared/index.js";
import { BODIES } from "./bodies.js";
import { ROUTES, type RouteName, routeFor } from "./contract.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { deploymentRoutes } from "./routes/deployments.js";
import { endpointRoutes } from "./routes/endpoints.js";
import { exportRoutes } from "./routes/export.js";
import type { ApiDeps, Handler } from "./routes/handler.js";
import { monitorRoutes } from "./routes/monitor.js";
import { pipelineRoutes } from "./routes/pipeline.js";
import { rolloutRoutes } from "./routes/rollouts.js";

export type AllHandlers = { [K in RouteName]: Handler<K> };

/** Every route's handler: tsc refuses a route of the contract without one. */
export function apiHandlers(deps: ApiDeps): AllHandlers {
  return {
    ...endpointRoutes(deps),
    ...deploymentRoutes(deps),
    ...rolloutRoutes(deps),
    ...monitorRoutes(deps),
    ...exportRoutes(deps),
    ...dashboardRoutes(deps),
    ...pipelineRoutes(deps),
  };
}

/** A route found for a request: its name, its spec and its decoded parameters. */
export interface MatchedRoute {
  name: RouteName;
  status: number;
  stream: boolean;
  params: Record<string, string>;
}

/** The route for a method and path (after /api/v1); RouteNotFound otherwise. */
export function matchRoute(method: string, path: string): MatchedRoute {
  const found = routeFor(method, path);
  if (!found)
    throw new PierError({
      code: "RouteNotFound",
      summary: `No API route ${method} /api/v1/${path.split("/").filter(Boolean).join("/")}`,
      fix: "Update the pier CLI to match the running pier up.",
    });
  const spec = ROUTES[found.name] as { status?: number; stream?: true };
  return {
    name: found.name,
    status: spec.status ?? 200,
    stream: spec.stream === true,
    params: Object.fromEntries(Object.entries(found.params).map(([k, v]) => [k, decodePathSegment(v)])),
  };
}

/** A route's body, checked against its schema (routes without one take none). */
export function checkBody(name: RouteName, body: unknown): unknown {
  const schema = (BODIES as Partial<Record<RouteName, (typeof BODIES)[keyof typeof BODIES]>>)[name];
  if (!schema) return {};
  return checkSpec(schema, body ?? {}, `The ${name} request body`, "request", "src/api/bodies.ts");
}

/** Runs a matched route's handler. */
export function runRoute(
  handlers: AllHandlers,
  route: MatchedRoute,
  query: URLSearchParams,
  body: unknown,
  progress: (event: ProgressEvent) => void,
): Promise<unknown> {
  const handler = handlers[route.name] as (
    request: { params: Record<string, string>; query: URLSearchParams; body: unknown },
    progress: (event: ProgressEvent) => void,
  ) => unknown;
  return Promise.resolve(
    handler({ params: route.params, query, body: checkBody(route.name, body) }, progress),
  );
}
