/**
 * The management API of `pier up`, as a route table: each route a method, a path pattern and a
 * handler that calls the engine and returns JSON. Deployments answered here carry the doctor's
 * diagnoses when they are not well. Errors are PierErrors; the server turns them into responses
 * with the status the code table gives.
 */
import { isAbsolute } from "node:path";
import { parseDeploymentSpec, parseEndpointSpec } from "../config/index.js";
import {
  type Diagnosis,
  type DoctorReport,
  deploymentWarnings,
  describeEvidence,
  diagnoseDeployment,
  doctorReport,
} from "../doctor/index.js";
import {
  type DeploymentView,
  type Engine,
  type ProgressEvent,
  parseTrafficArgument,
} from "../engine/index.js";
import { decodePathSegment, PierError, userError } from "../shared/index.js";

/** A deployment as the API answers it: for one that is not well, with the doctor's diagnoses. */
export type DeploymentReport = DeploymentView & { diagnoses?: Diagnosis[] };

export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

interface JsonRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  status?: number;
  handler(request: ApiRequest): unknown;
}

/** A route that streams progress lines (NDJSON) and ends with its result or its error. */
interface StreamRoute {
  method: "POST";
  path: string;
  stream(request: ApiRequest, progress: (event: ProgressEvent) => void): Promise<unknown>;
}

export type Route = JsonRoute | StreamRoute;

/** The doctor on one deployment. */
function doctorOf(engine: Engine, endpoint: string, name: string): DoctorReport {
  const started = performance.now();
  const evidence = engine.deployments.evidence(endpoint, name);
  return doctorReport(
    `${endpoint}/${name}`,
    diagnoseDeployment(evidence),
    describeEvidence(evidence),
    started,
    deploymentWarnings(evidence),
  );
}

/** A deployment view, with diagnoses when it Failed or an instance is not well. */
export function deploymentReport(engine: Engine, view: DeploymentView): DeploymentReport {
  if (!engine.deployments.unwell(view)) return view;
  return {
    ...view,
    diagnoses: diagnoseDeployment(engine.deployments.evidence(view.endpoint_name, view.name)),
  };
}

const text = (value: unknown, fallback: string): string => (typeof value === "string" ? value : fallback);

const LOG_CONTAINERS = ["inference-server", "storage-initializer"] as const;

export function apiRoutes(engine: Engine): Route[] {
  const { endpoints, deployments } = engine;
  return [
    { method: "GET", path: "/endpoints", handler: () => endpoints.list() },
    {
      method: "POST",
      path: "/endpoints",
      status: 201,
      handler: ({ body }) => endpoints.create(parseEndpointSpec(body.spec, text(body.source, "endpoint"))),
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint",
      handler: ({ params }) => endpoints.show(params.endpoint!),
    },
    {
      method: "PATCH",
      path: "/endpoints/:endpoint",
      handler: ({ params, body }) => {
        const name = params.endpoint!;
        const spec =
          body.spec === undefined
            ? undefined
            : parseEndpointSpec(body.spec, text(body.source, "endpoint")).spec;
        if (spec && spec.name !== name)
          throw userError(
            "BadArgument",
            `The file describes endpoint '${spec.name}', not '${name}'`,
            "Check the name in the YAML file.",
          );
        return endpoints.update(name, {
          ...(typeof body.traffic === "string"
            ? { traffic: parseTrafficArgument(body.traffic, "--traffic") }
            : {}),
          ...(typeof body.mirror_traffic === "string"
            ? { mirrorTraffic: parseTrafficArgument(body.mirror_traffic, "--mirror-traffic") }
            : {}),
          ...(spec ? { spec } : {}),
        });
      },
    },
    {
      method: "DELETE",
      path: "/endpoints/:endpoint",
      handler: ({ params }) => engine.deleteEndpoint(params.endpoint!),
    },
    {
      method: "POST",
      path: "/endpoints/:endpoint/credentials",
      handler: ({ params }) => endpoints.credentials(params.endpoint!),
    },
    {
      method: "POST",
      path: "/endpoints/:endpoint/regenerate-keys",
      handler: ({ params, body }) => {
        const keyType = text(body.keyType, "").toLowerCase();
        if (keyType !== "primary" && keyType !== "secondary")
          throw userError(
            "BadArgument",
            "--key-type must be primary or secondary",
            "Pass --key-type primary.",
          );
        return endpoints.regenerateKey(params.endpoint!, keyType);
      },
    },
    {
      method: "GET",
      path: "/doctor",
      handler: () =>
        endpoints
          .list()
          .flatMap((e) => deployments.names(e.name).map((name) => doctorOf(engine, e.name, name))),
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/doctor",
      handler: ({ params, query }) => {
        const endpoint = params.endpoint!;
        const one = query.get("deployment");
        return (one ? [one] : deployments.names(endpoint)).map((name) => doctorOf(engine, endpoint, name));
      },
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/events",
      handler: ({ params, query }) => engine.events(params.endpoint!, query.get("deployment") ?? undefined),
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/deployments",
      handler: ({ params }) => deployments.list(params.endpoint!).map((d) => deploymentReport(engine, d)),
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/deployments/:deployment",
      handler: ({ params }) =>
        deploymentReport(engine, deployments.show(params.endpoint!, params.deployment!)),
    },
    {
      method: "DELETE",
      path: "/endpoints/:endpoint/deployments/:deployment",
      handler: ({ params }) => engine.deleteDeployment(params.endpoint!, params.deployment!),
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/deployments/:deployment/logs",
      handler: ({ params, query }) => {
        const container = query.get("container") ?? "inference-server";
        if (!LOG_CONTAINERS.includes(container as (typeof LOG_CONTAINERS)[number])) {
          throw userError(
            "BadArgument",
            `--container must be inference-server or storage-initializer, got '${container}'`,
            "Pass --container storage-initializer.",
          );
        }
        const lines = Number(query.get("lines") ?? "100");
        return {
          logs: deployments.logs(
            params.endpoint!,
            params.deployment!,
            container as (typeof LOG_CONTAINERS)[number],
            Number.isFinite(lines) && lines > 0 ? lines : 100,
          ),
        };
      },
    },
    {
      method: "POST",
      path: "/deployments",
      stream: async ({ body }, progress) => {
        const loaded = parseDeploymentSpec(body.spec, text(body.source, "deployment"));
        const view = await engine.applyDeployment(loaded, {
          specDir: text(body.specDir, process.cwd()),
          allTraffic: body.allTraffic === true,
          mode: body.mode === "update" ? "update" : "create",
          progress,
          ...(typeof body.fidelity === "string" ? { fidelity: body.fidelity } : {}),
          // A YAML file's absolute path: what `pier doctor --fix` edits later.
          ...(typeof body.source === "string" && isAbsolute(body.source) && /\.ya?ml$/i.test(body.source)
            ? { sourceFile: body.source }
            : {}),
        });
        return deploymentReport(engine, view);
      },
    },
  ];
}

/** The route for a method and path (after /api/v1), with the path's parameters; RouteNotFound otherwise. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } {
  const parts = path.split("/").filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((segment, i) => {
      if (segment.startsWith(":")) {
        params[segment.slice(1)] = decodePathSegment(parts[i]!);
        return true;
      }
      return segment === parts[i];
    });
    if (matches) return { route, params };
  }
  throw new PierError({
    code: "RouteNotFound",
    summary: `No API route ${method} /api/v1/${parts.join("/")}`,
    fix: "Update the pier CLI to match the running pier up.",
  });
}
