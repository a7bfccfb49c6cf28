/**
 * The management API's contract, the one table the server (routes/), the CLI's client (client.ts)
 * and the dashboard (web/) share: each route's name, method, path (":name" segments), the query
 * parameters it reads, whether it streams, and the type of its answer. The bodies' schemas are in
 * bodies.ts (zod, kept out of this file so the dashboard's bundle can import it without zod).
 */
import type { DeploymentSpec } from "../config/index.js";
import type { Diagnosis, DoctorReport } from "../doctor/index.js";
import type { Credentials, DeploymentView, EndpointView, RecordedEvent } from "../engine/index.js";
import type { ExportResult } from "../export/index.js";
import type { AlertRecord, AlertRule, MonitorReport, SecondStats } from "../monitor/index.js";
import type { RunRecord } from "../pipeline/index.js";
import type { ModelVersion, RegisteredModel } from "../registry/index.js";
import type { RolloutRecord } from "../rollout/index.js";

type Method = "GET" | "POST" | "PATCH" | "DELETE";

interface RouteSpec {
  method: Method;
  path: string;
  /** The status of a success (200 when absent). */
  status?: number;
  /** Progress streams as NDJSON lines, the last one the result or the error. */
  stream?: true;
  /** The query parameters the route reads. */
  query?: readonly string[];
}

export const ROUTES = {
  "endpoints.list": { method: "GET", path: "/endpoints" },
  "endpoints.create": { method: "POST", path: "/endpoints", status: 201 },
  "endpoints.show": { method: "GET", path: "/endpoints/:endpoint" },
  "endpoints.update": { method: "PATCH", path: "/endpoints/:endpoint" },
  "endpoints.delete": { method: "DELETE", path: "/endpoints/:endpoint" },
  "endpoints.credentials": { method: "POST", path: "/endpoints/:endpoint/credentials" },
  "endpoints.regenerateKeys": { method: "POST", path: "/endpoints/:endpoint/regenerate-keys" },
  "endpoints.events": { method: "GET", path: "/endpoints/:endpoint/events", query: ["deployment"] },
  "doctor.all": { method: "GET", path: "/doctor" },
  "doctor.endpoint": { method: "GET", path: "/endpoints/:endpoint/doctor", query: ["deployment"] },
  "deployments.list": { method: "GET", path: "/endpoints/:endpoint/deployments" },
  "deployments.show": { method: "GET", path: "/endpoints/:endpoint/deployments/:deployment" },
  "deployments.delete": { method: "DELETE", path: "/endpoints/:endpoint/deployments/:deployment" },
  "deployments.spec": { method: "GET", path: "/endpoints/:endpoint/deployments/:deployment/spec" },
  "deployments.logs": {
    method: "GET",
    path: "/endpoints/:endpoint/deployments/:deployment/logs",
    query: ["container", "lines"],
  },
  "deployments.apply": { method: "POST", path: "/deployments", stream: true },
  "rollouts.start": { method: "POST", path: "/endpoints/:endpoint/rollouts", stream: true },
  "rollouts.status": { method: "GET", path: "/endpoints/:endpoint/rollout" },
  "rollouts.history": { method: "GET", path: "/endpoints/:endpoint/rollouts" },
  "rollouts.abort": { method: "POST", path: "/endpoints/:endpoint/rollout/abort" },
  "rollouts.promote": { method: "POST", path: "/endpoints/:endpoint/rollout/promote" },
  "rollouts.resume": { method: "POST", path: "/endpoints/:endpoint/rollout/resume" },
  "monitor.report": {
    method: "GET",
    path: "/endpoints/:endpoint/monitor",
    query: ["since", "until", "deployment"],
  },
  "alerts.list": { method: "GET", path: "/alerts", query: ["endpoint"] },
  "alerts.evaluate": { method: "POST", path: "/alerts/evaluate" },
  "export.write": { method: "POST", path: "/endpoints/:endpoint/export" },
  "dashboard.overview": { method: "GET", path: "/overview" },
  "dashboard.live": { method: "GET", path: "/endpoints/:endpoint/live" },
  "dashboard.link": { method: "POST", path: "/dashboard/link" },
  "models.list": { method: "GET", path: "/models" },
  "models.show": { method: "GET", path: "/models/:model" },
  "pipeline.start": { method: "POST", path: "/pipeline/runs", status: 201 },
  "pipeline.list": { method: "GET", path: "/pipeline/runs" },
  "pipeline.show": { method: "GET", path: "/pipeline/runs/:run" },
  "pipeline.approve": { method: "POST", path: "/pipeline/runs/:run/approve" },
  "pipeline.reject": { method: "POST", path: "/pipeline/runs/:run/reject" },
  "pipeline.resume": { method: "POST", path: "/pipeline/runs/:run/resume" },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

/** A deployment as the API answers it: for one that is not well, with the doctor's diagnoses. */
export type DeploymentReport = DeploymentView & { diagnoses?: Diagnosis[] };

/** An endpoint as the dashboard's overview shows it: its traffic, health and the last half hour. */
export interface EndpointSummary extends EndpointView {
  deployment_states: Record<string, string>;
  requests_per_second: number;
  p99_ms: number | null;
  error_rate: number;
  requests_per_minute: number[];
  rollout: string | null;
}

export interface Overview {
  endpoints: EndpointSummary[];
  alerts: AlertRecord[];
}

export interface Alerts {
  alerts: AlertRecord[];
  rules: AlertRule[];
}

export type ModelDetail = Omit<RegisteredModel, "versions"> & { versions: ModelVersion[] };

/** What each route answers. */
export interface Answers {
  "endpoints.list": EndpointView[];
  "endpoints.create": EndpointView;
  "endpoints.show": EndpointView;
  "endpoints.update": EndpointView;
  "endpoints.delete": { deleted: string };
  "endpoints.credentials": Credentials;
  "endpoints.regenerateKeys": Credentials;
  "endpoints.events": RecordedEvent[];
  "doctor.all": DoctorReport[];
  "doctor.endpoint": DoctorReport[];
  "deployments.list": DeploymentReport[];
  "deployments.show": DeploymentReport;
  "deployments.delete": { deleted: string };
  /** The YAML as pier keeps it (defaults filled in), the file it came from, and the model it resolved to. */
  "deployments.spec": { spec: DeploymentSpec; source_file: string | null; model: string };
  "deployments.logs": { logs: string };
  "deployments.apply": DeploymentReport;
  "rollouts.start": RolloutRecord;
  "rollouts.status": RolloutRecord;
  "rollouts.history": RolloutRecord[];
  "rollouts.abort": RolloutRecord;
  "rollouts.promote": RolloutRecord;
  "rollouts.resume": RolloutRecord;
  "monitor.report": MonitorReport;
  "alerts.list": Alerts;
  "alerts.evaluate": Alerts;
  "export.write": ExportResult;
  "dashboard.overview": Overview;
  "dashboard.live": Record<string, SecondStats[]>;
  "dashboard.link": { url: string };
  "models.list": RegisteredModel[];
  "models.show": ModelDetail;
  "pipeline.start": RunRecord;
  "pipeline.list": RunRecord[];
  "pipeline.show": RunRecord;
  "pipeline.approve": RunRecord;
  "pipeline.reject": RunRecord;
  "pipeline.resume": RunRecord;
}

/** The ":name" segments of a path, as an object of strings (numbers allowed: they are written as text). */
export type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name]: string | number } & PathParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string | number }
    : unknown;

export type ParamsOf<K extends RouteName> = PathParams<(typeof ROUTES)[K]["path"]>;

type QueryNames<K extends RouteName> = (typeof ROUTES)[K] extends {
  query: readonly (infer Q extends string)[];
}
  ? Q
  : never;

/** A route's query, by its parameter names; unset values are left out. */
export type QueryOf<K extends RouteName> = { [Q in QueryNames<K>]?: string | number | undefined };

/** The route's path with its parameters encoded, and its query. */
export function pathFor<K extends RouteName>(
  name: K,
  params: ParamsOf<K>,
  query: QueryOf<K> = {} as QueryOf<K>,
): string {
  const values = params as Record<string, string | number>;
  const path = ROUTES[name].path.replace(/:(\w+)/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`pathFor(${name}): no value for :${key}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query as Record<string, string | number | undefined>))
    if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

/** The route a method and path (after /api/v1) name, with the path's parameters (still encoded). */
export function routeFor(
  method: string,
  path: string,
): { name: RouteName; params: Record<string, string> } | undefined {
  const parts = path.split("/").filter(Boolean);
  for (const [name, spec] of Object.entries(ROUTES) as [RouteName, RouteSpec][]) {
    if (spec.method !== method) continue;
    const pattern = spec.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((segment, i) => {
      if (!segment.startsWith(":")) return segment === parts[i];
      params[segment.slice(1)] = parts[i]!;
      return true;
    });
    if (matches) return { name, params };
  }
  return undefined;
}
