/**
 * The one HTTP server of `pier up` on 127.0.0.1: the management API under /api/v1 (its routes in
 * routes.ts; token in a 0600 file, compared in constant time), the gateway under /endpoints, and
 * /metrics.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { type Engine, secretsEqual } from "../engine/index.js";
import { createGateway, createMetrics, type RequestStats } from "../gateway/index.js";
import {
  type AlertSettings,
  loadAlertSettings,
  Monitoring,
  registerMonitorMetrics,
} from "../monitor/index.js";
import { PipelineRuns } from "../pipeline/index.js";
import { Rollouts, registerRolloutMetrics } from "../rollout/index.js";
import {
  type Logger,
  PierError,
  parseJson,
  portHolder,
  readBody,
  toPierError,
  userError,
} from "../shared/index.js";
import { Dashboard } from "./dashboard.js";
import { type ApiRequest, apiRoutes, doctorOf, matchRoute } from "./routes.js";

export const UP_FILE = "up.json";
export const API_TOKEN_FILE = "api-token";

export interface UpInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: string;
}

/** Management requests are small (a deployment spec): 5 MiB is far more than any needs. */
const MAX_API_BODY_BYTES = 5 * 2 ** 20;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, MAX_API_BODY_BYTES);
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = parseJson(body.toString("utf8")).value;
  } catch {
    throw userError("BadRequest", "The request body is not valid JSON", "Send a JSON object.");
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw userError("BadRequest", "The request body must be a JSON object", "Send a JSON object.");
  return value as Record<string, unknown>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
    .end(text);
}

/** The management API: finds the route, runs it, answers JSON (or streams NDJSON for a deployment). */
export function createApi(
  engine: Engine,
  rollouts: Rollouts,
  monitoring: Monitoring,
  pipelineRuns: PipelineRuns,
) {
  const routes = apiRoutes(engine, rollouts, monitoring, pipelineRuns);
  return async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const { route, params } = matchRoute(routes, req.method ?? "GET", url.pathname.slice("/api/v1".length));
    const request: ApiRequest = {
      params,
      query: url.searchParams,
      body: req.method === "GET" || req.method === "DELETE" ? {} : await readJson(req),
    };
    if ("stream" in route) {
      // Progress streams as NDJSON lines; the last line carries the result or the error.
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      try {
        const result = await route.stream(request, (event) =>
          res.write(`${JSON.stringify({ progress: event })}\n`),
        );
        res.end(`${JSON.stringify({ result })}\n`);
      } catch (error) {
        res.end(`${JSON.stringify({ error: toPierError(error).toJSON() })}\n`);
      }
      return;
    }
    sendJson(res, route.status ?? 200, await route.handler(request));
  };
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /**
   * Stops taking connections, lets the requests in flight finish (up to `graceMs`), then closes what
   * is left. Resolves to how many requests were still running when it began.
   */
  close(graceMs?: number): Promise<number>;
  /** The endpoints' rollouts, driven in this process. */
  rollouts: Rollouts;
  /** Data capture, request series and alerts. */
  monitoring: Monitoring;
  /** The dashboard's sessions and login links. */
  dashboard: Dashboard;
  /** Pipeline runs. */
  pipelineRuns: PipelineRuns;
}

export interface ServerOptions {
  home: string;
  port: number;
  /** Request outcomes, kept by the gateway and read by the engine's evidence. */
  stats: RequestStats;
  logger: Logger;
  /** The alert rules file's settings (the built-in rules when absent). */
  alerts?: AlertSettings;
}

/** Starts the server on `port` (0 = any free port); fails with PortInUse when it is taken. */
export async function startServer(engine: Engine, options: ServerOptions): Promise<RunningServer> {
  const { home, port, stats, logger } = options;
  const metrics = createMetrics(engine.routing);
  let url = "";
  const rollouts = new Rollouts(home, {
    engine,
    logger,
    diagnose: (endpoint, deployment) => doctorOf(engine, endpoint, deployment).diagnoses,
    // Smoke requests go the way a client's do, pinned to the new deployment.
    smoke: async (endpoint, deployment, body) => {
      const credentials = engine.endpoints.credentials(endpoint);
      const response = await fetch(`${url}/endpoints/${encodeURIComponent(endpoint)}/score`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${credentials.primaryKey ?? credentials.accessToken}`,
          "content-type": "application/json",
          "azureml-model-deployment": deployment,
        },
        body,
      });
      return { status: response.status, text: await response.text() };
    },
  });
  registerRolloutMetrics(metrics.registry, rollouts);
  const monitoring = new Monitoring(home, {
    engine,
    rollouts,
    logger,
    settings: options.alerts ?? loadAlertSettings(undefined),
    url: () => url,
  });
  registerMonitorMetrics(metrics.registry, monitoring);
  const gateway = createGateway({
    routing: engine.routing,
    metrics,
    stats,
    logger,
    rollouts: (endpoint) => rollouts.tap(endpoint),
    capture: monitoring.capture.tap,
    observe: (endpoint, deployment, status, ms) =>
      monitoring.series.observe(endpoint, deployment, status, ms),
  });
  const pipelineRuns = new PipelineRuns(home, { engine, rollouts, logger });
  const handleApi = createApi(engine, rollouts, monitoring, pipelineRuns);
  const dashboard = new Dashboard(() => url, monitoring);
  const tokenPath = join(home, API_TOKEN_FILE);
  if (!existsSync(tokenPath))
    writeFileSync(tokenPath, randomBytes(32).toString("base64url"), { mode: 0o600 });
  const token = readFileSync(tokenPath, "utf8").trim();

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer(async (req, res) => {
    inFlight++;
    res.on("close", () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    try {
      const rawUrl = req.url ?? "/";
      const query = rawUrl.indexOf("?");
      if (await gateway.handle(req, res, query < 0 ? rawUrl : rawUrl.slice(0, query))) return;
      const url = new URL(rawUrl, "http://localhost");
      if (url.pathname === "/metrics") {
        res
          .writeHead(200, { "content-type": metrics.registry.contentType })
          .end(await metrics.registry.metrics());
        return;
      }
      if (await dashboard.handle(req, res, url)) return;
      if (url.pathname.startsWith("/api/v1/")) {
        const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
        // The API token, or a dashboard session (whose changes need its CSRF header).
        if (given === undefined ? !dashboard.allowsApi(req) : !secretsEqual(given, token))
          throw userError(
            "Unauthorized",
            "Missing or wrong management API token",
            "Use the token in the api-token file of pier's home (PIER_HOME).",
          );
        logger.debug("api request", { method: req.method, path: url.pathname });
        if (url.pathname === "/api/v1/dashboard/link" && req.method === "POST") {
          sendJson(res, 200, { url: dashboard.loginLink() });
          return;
        }
        await handleApi(req, res, url);
        return;
      }
      throw userError(
        "NotFound",
        `No route ${url.pathname}; scoring is at /endpoints/<name>/score`,
        "Score at /endpoints/<name>/score; manage at /api/v1.",
      );
    } catch (error) {
      const e = toPierError(error);
      if (e.class === "system")
        logger.error(`${req.method} ${req.url}: ${e.code}: ${e.summary}`, {
          code: e.code,
          ...(e.code === "InternalError" ? { stack: (error as Error).stack ?? "" } : {}),
        });
      // pier's own failure never shows its code or the machine's paths to a client; the log has them.
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
      if (!res.headersSent) sendJson(res, e.httpStatus, { error: body });
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  // What Node's HTTP parser refuses (headers too large, a malformed request line) still gets a JSON answer.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const body = JSON.stringify({
      error: {
        code: tooLarge ? "HeadersTooLarge" : "BadRequest",
        class: "user",
        summary: tooLarge ? "The request's headers are larger than 16 KiB" : "The request is not valid HTTP",
        details: [],
        fix: tooLarge
          ? "Send smaller headers (a token, not a file, in Authorization)."
          : "Send an HTTP/1.1 request.",
      },
    });
    socket.end(
      `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        const holder = portHolder(port);
        reject(
          new PierError({
            code: "PortInUse",
            summary: `Port ${port} on 127.0.0.1 is already in use${holder ? ` by process ${holder.pid} (${holder.command.slice(0, 120)})` : ""}`,
            details: holder
              ? [`listening socket of pid ${holder.pid}, found through /proc/net/tcp`]
              : ["the process that holds it is not visible to this user"],
            fix: `Stop ${holder ? `process ${holder.pid}` : "what uses it"}, or start pier on another port: pier up --port 0 (any free port) or --port ${port + 1}`,
            data: { port, ...(holder ? { pid: holder.pid } : {}) },
          }),
        );
      } else reject(error);
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  url = `http://127.0.0.1:${actualPort}`;
  engine.baseUrl = url;
  const info: UpInfo = { pid: process.pid, port: actualPort, url, startedAt: new Date().toISOString() };
  writeFileSync(join(home, UP_FILE), JSON.stringify(info), { mode: 0o600 });
  logger.info(`listening on ${url}`, { port: actualPort });
  monitoring.start();
  return {
    server,
    port: actualPort,
    url,
    rollouts,
    monitoring,
    dashboard,
    pipelineRuns,
    close: async (graceMs = 0) => {
      rmSync(join(home, UP_FILE), { force: true });
      const running = inFlight;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0 && graceMs > 0)
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, graceMs).unref();
        });
      server.closeAllConnections();
      await closed;
      await gateway.close();
      await monitoring.close();
      pipelineRuns.close();
      rollouts.close();
      return running;
    },
  };
}
