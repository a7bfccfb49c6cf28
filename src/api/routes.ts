/**
 * The management API of `pier up`, as a route table: each route a method, a path pattern and a
 * handler that calls the engine and returns JSON. Deployments answered here carry the doctor's
 * diagnoses when they are not well. Errors are PierErrors; the server turns them into responses
 * with the status the code table gives.
 */
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute } from "node:path";
import { parseDeploymentSpec, parseEndpointSpec, parseRolloutSpec } from "../config/index.js";
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
import { type ExportSource, exportAzureMl, exportKserve } from "../export/index.js";
import { type Monitoring, parseDuration } from "../monitor/index.js";
import type { PipelineRuns } from "../pipeline/index.js";
import type { Rollouts } from "../rollout/index.js";
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
export function doctorOf(engine: Engine, endpoint: string, name: string): DoctorReport {
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

export function apiRoutes(
  engine: Engine,
  rollouts: Rollouts,
  monitoring: Monitoring,
  pipelineRuns: PipelineRuns,
): Route[] {
  const { endpoints, deployments } = engine;
  return [
    ...rolloutRoutes(engine, rollouts),
    ...monitorRoutes(engine, monitoring),
    ...exportRoutes(engine),
    ...dashboardRoutes(engine, rollouts, monitoring),
    ...pipelineRoutes(pipelineRuns),
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
        rollouts.guard(name);
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
      handler: ({ params }) => {
        rollouts.guard(params.endpoint!);
        return engine.deleteEndpoint(params.endpoint!);
      },
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
      handler: ({ params }) => {
        rollouts.guard(params.endpoint!, params.deployment!);
        return engine.deleteDeployment(params.endpoint!, params.deployment!);
      },
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
        if (body.allTraffic === true) rollouts.guard(loaded.spec.endpoint_name);
        if (engine.deployments.exists(loaded.spec.endpoint_name, loaded.spec.name))
          rollouts.guard(loaded.spec.endpoint_name, loaded.spec.name);
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

/**
 * `pier rollout`: start one (creating or updating its deployment first when the request carries its
 * YAML, with the steps streamed), read its status and history, and abort, promote or resume it.
 */
function rolloutRoutes(engine: Engine, rollouts: Rollouts): Route[] {
  const endpointOf = (params: Record<string, string>) => params.endpoint!;
  return [
    {
      method: "POST",
      path: "/endpoints/:endpoint/rollouts",
      stream: async ({ params, body }, progress) => {
        const endpoint = endpointOf(params);
        const spec = parseRolloutSpec(body.rollout ?? {}, {}, text(body.rolloutSource, "the rollout"), "/");
        const stable = rollouts.preflight(endpoint);
        let candidate = text(body.deployment, "");
        if (body.spec !== undefined) {
          const loaded = parseDeploymentSpec(body.spec, text(body.source, "deployment"));
          if (loaded.spec.endpoint_name !== endpoint)
            throw userError(
              "BadArgument",
              `${text(body.source, "the deployment file")} is for endpoint '${loaded.spec.endpoint_name}', not '${endpoint}'`,
              `Pass -e ${loaded.spec.endpoint_name}, or fix endpoint_name in the file.`,
            );
          if (loaded.spec.name === stable)
            throw userError(
              "RolloutNotApplicable",
              `${stable} is the deployment that serves now: a rollout needs the new model under another name`,
              "Give the deployment file another name (e.g. green) and start the rollout again.",
            );
          candidate = loaded.spec.name;
          const exists = engine.deployments.exists(endpoint, candidate);
          if (exists && (engine.endpoints.show(endpoint).traffic[candidate] ?? 0) > 0)
            throw userError(
              "RolloutNotApplicable",
              `${candidate} already has live traffic`,
              "Roll out a deployment at 0 %.",
            );
          const view = await engine.applyDeployment(loaded, {
            specDir: text(body.specDir, process.cwd()),
            allTraffic: false,
            mode: exists ? "update" : "create",
            progress,
            ...(typeof body.fidelity === "string" ? { fidelity: body.fidelity } : {}),
            ...(typeof body.source === "string" && isAbsolute(body.source)
              ? { sourceFile: body.source }
              : {}),
          });
          if (view.provisioning_state !== "Succeeded")
            throw new PierError({
              code: "RolloutNotApplicable",
              summary: `${candidate} ${view.provisioning_state}${view.error ? ` (${view.error.code}: ${view.error.summary})` : ""}: no rollout started, no client involved`,
              details: doctorOf(engine, endpoint, candidate).diagnoses.map((d) => `${d.code}: ${d.cause}`),
              fix: view.error?.fix ?? `See why: pier doctor ${endpoint} ${candidate}`,
            });
        }
        if (!candidate)
          throw userError(
            "BadArgument",
            "A rollout needs its new deployment: a deployment file (-f green.yml) or the name of one at 0 % (--deployment green)",
            `Run pier rollout start -e ${endpoint} -f green.yml`,
          );
        return rollouts.start(endpoint, candidate, spec);
      },
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/rollout",
      handler: ({ params }) => rollouts.status(endpointOf(params)),
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/rollouts",
      handler: ({ params }) => rollouts.history(endpointOf(params)),
    },
    {
      method: "POST",
      path: "/endpoints/:endpoint/rollout/abort",
      handler: ({ params }) => rollouts.abort(endpointOf(params)),
    },
    {
      method: "POST",
      path: "/endpoints/:endpoint/rollout/promote",
      handler: ({ params }) => rollouts.promote(endpointOf(params)),
    },
    {
      method: "POST",
      path: "/endpoints/:endpoint/rollout/resume",
      handler: ({ params }) => rollouts.resume(endpointOf(params)),
    },
  ];
}

/** A time in a query: an ISO date, or a duration back from now ("24h"). */
function timeOf(value: string | null, now: number, fallback: number): number {
  if (!value) return fallback;
  if (/^\d+[smhd]$/.test(value)) return now - parseDuration(value);
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw userError(
      "BadArgument",
      `'${value}' is neither a duration nor a date`,
      "Use e.g. --since 24h or --since 2026-12-01T08:00:00Z.",
    );
  return at;
}

/** `pier monitor`: an endpoint's signals over a window, and alerts. */
function monitorRoutes(engine: Engine, monitoring: Monitoring): Route[] {
  return [
    {
      method: "GET",
      path: "/endpoints/:endpoint/monitor",
      handler: ({ params, query }) => {
        const now = Date.now();
        const from = timeOf(query.get("since"), now, now - 86_400_000);
        const to = timeOf(query.get("until"), now, now);
        if (from >= to)
          throw userError(
            "BadArgument",
            "The window ends before it starts",
            "Give --since a time before --until.",
          );
        return monitoring.report(params.endpoint!, from, to, query.get("deployment") ?? undefined);
      },
    },
    {
      method: "GET",
      path: "/alerts",
      handler: ({ query }) => {
        const endpoint = query.get("endpoint") ?? undefined;
        if (endpoint) engine.endpoints.record(endpoint);
        return { alerts: monitoring.alerts.list(endpoint), rules: monitoring.rules };
      },
    },
    {
      method: "POST",
      path: "/alerts/evaluate",
      handler: async () => {
        await monitoring.evaluate();
        return { alerts: monitoring.alerts.list(), rules: monitoring.rules };
      },
    },
  ];
}

/** What an export is made of: the endpoint, its Succeeded deployments and what pier measured of them. */
function exportSource(engine: Engine, endpoint: string, only: string | undefined): ExportSource {
  const record = engine.endpoints.record(endpoint);
  const names = only ? [only] : engine.store.deployments(endpoint).map((d) => d.name);
  if (names.length === 0)
    throw userError(
      "NotExportable",
      `Endpoint '${endpoint}' has no deployment to export`,
      `Create one first: pier deployment create -f blue.yml`,
    );
  const deployments = names.map((name) => {
    engine.deployments.show(endpoint, name);
    const d = engine.store.deployment(endpoint, name)!;
    if (d.provisioningState !== "Succeeded")
      throw userError(
        "NotExportable",
        `Deployment ${endpoint}/${name} is ${d.provisioningState}: pier exports what it has run, and this has not`,
        `Make it Succeed here first (pier doctor -e ${endpoint} -n ${name}), or export the others with -n NAME.`,
      );
    return {
      name,
      spec: d.spec,
      model: engine.registry.getVersion(d.modelName, d.modelVersion),
      code: d.code
        ? { files: d.code.artifacts, scoringScript: d.code.scoringScript, conda: d.code.conda }
        : null,
      evidence: engine.deployments.evidence(endpoint, name),
    };
  });
  return {
    endpoint: {
      name: record.name,
      spec: record.spec,
      traffic: record.traffic,
      mirrorTraffic: record.mirrorTraffic,
    },
    deployments,
    materialize: (files, dir) => engine.registry.store.materialize(files, dir),
  };
}

/** `pier export`: Azure ML YAML or KServe manifests of an endpoint, written into a folder. */
function exportRoutes(engine: Engine): Route[] {
  return [
    {
      method: "POST",
      path: "/endpoints/:endpoint/export",
      handler: ({ params, body }) => {
        const out = text(body.out, "");
        if (!isAbsolute(out))
          throw userError("BadArgument", "The export needs an absolute --out folder", "Pass --out DIR.");
        if (existsSync(out) && readdirSync(out).length > 0)
          throw userError(
            "OutputExists",
            `${out} already exists and is not empty`,
            "Choose another --out folder, or empty this one.",
          );
        const source = exportSource(
          engine,
          params.endpoint!,
          typeof body.deployment === "string" ? body.deployment : undefined,
        );
        if (body.target === "kserve") {
          const storageUri = text(body.storageUri, "");
          if (!/^(s3|gs|pvc|oci|hf|https?|file):\/\//.test(storageUri))
            throw userError(
              "BadArgument",
              `--storage-uri '${storageUri}' is not a storage URI KServe reads`,
              "Use s3://, gs://, pvc://, https://, oci://, hf:// or file://, e.g. --storage-uri s3://models/fin-behavior",
            );
          return exportKserve(source, out, storageUri);
        }
        if (body.target !== "azureml")
          throw userError(
            "BadArgument",
            `Unknown export target '${String(body.target)}'`,
            "Use azureml or kserve.",
          );
        return exportAzureMl(source, out);
      },
    },
  ];
}

/** What the dashboard reads beyond the management API's own views: one overview, live seconds, the registry. */
function dashboardRoutes(engine: Engine, rollouts: Rollouts, monitoring: Monitoring): Route[] {
  return [
    {
      method: "GET",
      path: "/overview",
      handler: () => {
        const now = Date.now();
        return {
          endpoints: engine.endpoints.list().map((e) => {
            const names = engine.store.deployments(e.name).map((d) => d.name);
            const seconds = names.map((d) => monitoring.series.live(e.name, d, now).slice(-60));
            const requests = seconds.flat().reduce((s, x) => s + x.requests, 0);
            const errors = seconds.flat().reduce((s, x) => s + x.errors, 0);
            const p99 = Math.max(0, ...seconds.flat().map((x) => x.p99_ms ?? 0));
            const minutes = monitoring.series.minutes(e.name, undefined, now - 30 * 60_000);
            const perMinute = Array.from({ length: 30 }, (_, i) => {
              const start = now - (now % 60_000) - (29 - i) * 60_000;
              return minutes.filter((m) => m.minute === start).reduce((s, m) => s + m.requests, 0);
            });
            return {
              ...e,
              deployment_states: Object.fromEntries(
                names.map((d) => [d, engine.store.deployment(e.name, d)!.provisioningState]),
              ),
              requests_per_second: requests / 60,
              p99_ms: p99 || null,
              error_rate: requests ? errors / requests : 0,
              requests_per_minute: perMinute,
              rollout: rollouts.active().find((r) => r.endpoint === e.name)?.state ?? null,
            };
          }),
          alerts: monitoring.alerts.firing(),
        };
      },
    },
    {
      method: "GET",
      path: "/endpoints/:endpoint/live",
      handler: ({ params }) => {
        const endpoint = params.endpoint!;
        engine.endpoints.record(endpoint);
        return Object.fromEntries(
          engine.store.deployments(endpoint).map((d) => [d.name, monitoring.series.live(endpoint, d.name)]),
        );
      },
    },
    { method: "GET", path: "/models", handler: () => engine.registry.listModels() },
    {
      method: "GET",
      path: "/models/:model",
      handler: ({ params }) => {
        const model = engine.registry.getModel(params.model!);
        return { ...model, versions: model.versions.map((v) => engine.registry.getVersion(model.name, v)) };
      },
    },
  ];
}

/** `pier pipeline`: runs started here, driven by pier up, with their decision records. */
function pipelineRoutes(pipelineRuns: PipelineRuns): Route[] {
  const id = (params: Record<string, string>) => {
    const n = Number(params.run);
    if (!Number.isInteger(n) || n < 1)
      throw userError(
        "BadArgument",
        `'${params.run}' is not a run number`,
        "Use the number pier pipeline runs shows.",
      );
    return n;
  };
  return [
    {
      method: "POST",
      path: "/pipeline/runs",
      status: 201,
      handler: ({ body }) =>
        pipelineRuns.start(
          body.document ?? {},
          text(body.source, "the pipeline"),
          text(body.baseDir, "/"),
          body.force === true,
        ),
    },
    { method: "GET", path: "/pipeline/runs", handler: () => pipelineRuns.list() },
    { method: "GET", path: "/pipeline/runs/:run", handler: ({ params }) => pipelineRuns.get(id(params)) },
    {
      method: "POST",
      path: "/pipeline/runs/:run/approve",
      handler: ({ params, body }) =>
        pipelineRuns.decide(id(params), "approved", text(body.by, "someone"), text(body.comment, "")),
    },
    {
      method: "POST",
      path: "/pipeline/runs/:run/reject",
      handler: ({ params, body }) =>
        pipelineRuns.decide(id(params), "rejected", text(body.by, "someone"), text(body.comment, "")),
    },
    {
      method: "POST",
      path: "/pipeline/runs/:run/resume",
      handler: ({ params }) => pipelineRuns.resume(id(params)),
    },
  ];
}
