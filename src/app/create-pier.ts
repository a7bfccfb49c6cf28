/**
 * The composition root: one function builds all of pier on a home folder — the registry, the engine,
 * the gateway, monitoring, rollouts, pipeline runs, the dashboard and the management API — and gives
 * back one socket-free `handle(request) → response` (and `fetch` for tests), `listen(port)` for a
 * socket, and `close()`. `pier up`, the tests and the chaos suite all build pier here.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  apiToken,
  createManagementApi,
  Dashboard,
  doctorOf,
  scoreRequest,
  UP_FILE,
  type UpInfo,
} from "../api/index.js";
import { Engine, type ProgressSink } from "../engine/index.js";
import { createGateway, createMetrics, RequestStats } from "../gateway/index.js";
import {
  type AlertSettings,
  loadAlertSettings,
  Monitoring,
  registerMonitorMetrics,
} from "../monitor/index.js";
import { PipelineRuns } from "../pipeline/index.js";
import { Registry } from "../registry/index.js";
import { Rollouts, registerRolloutMetrics } from "../rollout/index.js";
import {
  jsonResponse,
  type Logger,
  type PierRequest,
  type PierResponse,
  pathOf,
  silentLogger,
  toPierError,
  userError,
} from "../shared/index.js";
import { fromFetchRequest, localRequest, toFetchResponse } from "./fetch.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits, type Listening, listenHttp } from "./http-server.js";

export interface PierOptions {
  /** The home folder (pier.db, artifacts, instances, captured data). */
  home: string;
  logger?: Logger;
  /** The alert rules file's settings (the built-in rules when absent). */
  alerts?: AlertSettings;
  /** Timeouts and connection caps of the socket (listen()); pier's defaults when absent. */
  http?: Partial<HttpLimits>;
  /** Host names the management API, the dashboard and /metrics answer besides 127.0.0.1, localhost and [::1]. */
  allowedHosts?: readonly string[];
}

export interface Pier {
  readonly home: string;
  readonly registry: Registry;
  readonly engine: Engine;
  readonly rollouts: Rollouts;
  readonly monitoring: Monitoring;
  readonly pipelineRuns: PipelineRuns;
  readonly dashboard: Dashboard;
  /** The management API's token (also in the home's api-token file, 0600). */
  readonly token: string;
  /** Where pier listens, once it does. */
  readonly url: string | undefined;
  /** Answers one request, socket-free: the gateway, /metrics, the dashboard and the management API. */
  handle(request: PierRequest): Promise<PierResponse>;
  /** handle() for a fetch Request (or a path and its init), as a fetch Response. */
  fetch(input: Request | string, init?: RequestInit): Promise<Response>;
  /** Listens on 127.0.0.1:`port` (0: any free port) and writes up.json for the CLI; resolves to the URL. */
  listen(port: number): Promise<string>;
  /**
   * Starts what the home ran before (scoring requests that come meanwhile wait for it), then lets
   * the rollouts that were running go on; resolves to how many deployments it restored.
   */
  restore(progress?: ProgressSink): Promise<number>;
  /**
   * Stops: no new connections, the requests in flight finish (up to `graceMs`), then monitoring,
   * pipeline runs, rollouts and the instances (SIGTERM, then SIGKILL after `instanceGraceMs`), and the
   * databases. Resolves to how many requests were in flight when the stop began.
   */
  close(options?: CloseOptions): Promise<number>;
}

export interface CloseOptions {
  /** How long the requests in flight may take to finish (default 0). */
  graceMs?: number;
  /** How long instances get after SIGTERM before SIGKILL (default 5 s). */
  instanceGraceMs?: number;
  /** Told when the requests are done and the instances are about to stop, with how many were in flight. */
  drained?: (running: number) => void;
}

/** pier's own failure never shows its code or the machine's paths to a client; the log has them. */
function errorResponse(error: unknown, req: PierRequest, logger: Logger): PierResponse {
  const e = toPierError(error);
  if (e.class === "system")
    logger.error(`${req.method} ${req.url}: ${e.code}: ${e.summary}`, {
      code: e.code,
      ...(e.code === "InternalError" ? { stack: (error as Error).stack ?? "" } : {}),
    });
  const body =
    e.code === "InternalError"
      ? {
          code: e.code,
          class: e.class,
          summary: "pier failed while handling this request",
          details: [],
          fix: "This is a bug in pier: pier up's log has the error; please report it.",
        }
      : e.toJSON();
  return jsonResponse(e.httpStatus, { error: body });
}

/**
 * The Host a browser sent names pier itself: 127.0.0.1, localhost, [::1] or a name the user allowed.
 * A DNS-rebinding page reaches 127.0.0.1 under its own name, and that name is refused, so it cannot
 * read /metrics or the dashboard, nor drive the management API. A request without Host (HTTP/1.0, a
 * request made in this process) is let through: no browser sends one.
 */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return true;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d*$/, "");
  return allowed.has(name.toLowerCase());
}

const LOCAL_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** Where a request goes: the gateway, /metrics, the dashboard, the management API; anything else is a 404. */
function requestHandler(parts: {
  gateway: ReturnType<typeof createGateway>;
  metrics: ReturnType<typeof createMetrics>["registry"];
  dashboard: Dashboard;
  handleApi: ReturnType<typeof createManagementApi>;
  logger: Logger;
  allowedHosts: ReadonlySet<string>;
}): (req: PierRequest) => Promise<PierResponse> {
  const { gateway, metrics, dashboard, handleApi, logger, allowedHosts } = parts;
  return async (req) => {
    try {
      const scored = gateway.handle(req);
      if (scored) return await scored;
      if (!hostAllowed(req.headers.host, allowedHosts))
        throw userError(
          "HostNotAllowed",
          `pier does not answer for Host '${String(req.headers.host).slice(0, 100)}': the management API, the dashboard and /metrics answer for 127.0.0.1, localhost and the names pier up was given`,
          "Open pier at http://127.0.0.1:<port>/, or start it with pier up --allowed-host NAME.",
        );
      if (pathOf(req.url) === "/metrics")
        return {
          status: 200,
          headers: { "content-type": metrics.contentType },
          body: await metrics.metrics(),
        };
      const answer = (await dashboard.handle(req)) ?? (await handleApi(req));
      if (answer) return answer;
      throw userError(
        "NotFound",
        `No route ${pathOf(req.url)}; scoring is at /endpoints/<name>/score`,
        "Score at /endpoints/<name>/score; manage at /api/v1.",
      );
    } catch (error) {
      return errorResponse(error, req, logger);
    }
  };
}

/** Builds pier on `home`. Nothing listens until listen(); handle() answers at once. */
export function createPier(options: PierOptions): Pier {
  const { home } = options;
  const logger = options.logger ?? silentLogger;
  // Registrations and copies out of the store run on a thread of their own: scoring never waits for them.
  const registry = Registry.open(home, { fileThread: !process.env.PIER_TMP_SYNC });
  const stats = new RequestStats();
  let engine: Engine;
  try {
    engine = new Engine(home, registry, { requests: stats.summary, logger });
  } catch (error) {
    registry.close();
    throw error;
  }
  let listening: Listening | undefined;
  const metrics = createMetrics(engine.routing);
  const rollouts = new Rollouts(home, {
    engine,
    logger,
    diagnose: (endpoint, deployment) => doctorOf(engine, endpoint, deployment).diagnoses,
    // Smoke requests go the way a client's do, pinned to the new deployment, without a socket.
    smoke: async (endpoint, deployment, body) => {
      const { path, headers } = scoreRequest(
        { endpoint, deployment, body },
        engine.endpoints.credentials(endpoint),
      );
      const response = await handle(localRequest("POST", path, headers, body));
      const text = await toFetchResponse(response).text();
      return { status: response.status, text };
    },
  });
  registerRolloutMetrics(metrics.registry, rollouts);
  const monitoring = new Monitoring(home, {
    engine,
    rollouts,
    logger,
    settings: options.alerts ?? loadAlertSettings(undefined),
    url: () => listening?.url ?? engine.endpoints.baseUrl,
  });
  registerMonitorMetrics(metrics.registry, monitoring);
  const gateway = createGateway({
    routing: engine.routing,
    metrics,
    stats,
    logger,
    rollouts: (endpoint) => rollouts.tap(endpoint),
    insteadOf: (endpoint, drawn) => rollouts.insteadOf(endpoint, drawn),
    capture: monitoring.capture.tap,
    observe: (endpoint, deployment, status, ms) =>
      monitoring.series.observe(endpoint, deployment, status, ms),
  });
  const pipelineRuns = new PipelineRuns(home, { engine, rollouts, logger });
  const dashboard = new Dashboard(() => listening?.url ?? engine.endpoints.baseUrl, monitoring);
  const token = apiToken(home);
  const handleApi = createManagementApi({
    engine,
    rollouts,
    monitoring,
    pipelineRuns,
    dashboard,
    logger,
    token,
  });

  const handle = requestHandler({
    gateway,
    metrics: metrics.registry,
    dashboard,
    handleApi,
    logger,
    allowedHosts: new Set([...LOCAL_HOSTS, ...(options.allowedHosts ?? []).map((h) => h.toLowerCase())]),
  });

  monitoring.start();
  let closing: Promise<number> | undefined;
  return {
    home,
    registry,
    engine,
    rollouts,
    monitoring,
    pipelineRuns,
    dashboard,
    token,
    get url() {
      return listening?.url;
    },
    handle,
    async fetch(input, init) {
      const request =
        typeof input === "string" ? new Request(new URL(input, "http://127.0.0.1"), init) : input;
      const response = await handle(await fromFetchRequest(request));
      if (response.afterSend) setImmediate(response.afterSend);
      return toFetchResponse(response);
    },
    async listen(port) {
      listening = await listenHttp(handle, port, { ...DEFAULT_HTTP_LIMITS, ...options.http });
      engine.baseUrl = listening.url;
      const info: UpInfo = {
        pid: process.pid,
        port: listening.port,
        url: listening.url,
        startedAt: new Date().toISOString(),
      };
      writeFileSync(join(home, UP_FILE), JSON.stringify(info), { mode: 0o600 });
      logger.info(`listening on ${listening.url}`, { port: listening.port });
      return listening.url;
    },
    async restore(progress) {
      const deployments = engine.store.deployments().length;
      if (deployments > 0) await engine.restore(progress);
      // Rollouts that were running when pier stopped go on (or roll back), and say which.
      rollouts.resumeAll();
      return deployments;
    },
    close({ graceMs = 0, instanceGraceMs = 5000, drained }: CloseOptions = {}) {
      closing ??= (async () => {
        rmSync(join(home, UP_FILE), { force: true });
        const running = listening ? await listening.close(graceMs) : 0;
        drained?.(running);
        await gateway.close();
        await monitoring.close();
        pipelineRuns.close();
        rollouts.close();
        await engine.shutdown(instanceGraceMs);
        registry.close();
        return running;
      })();
      return closing;
    },
  };
}
