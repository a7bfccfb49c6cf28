/**
 * The data plane, as named steps: match the route → authenticate (authenticate.ts) → route to a
 * deployment (traffic-draw.ts) → parse the request and check it against the model (formats.ts,
 * model/enforce.ts) → mirror → admit and forward (forward.ts) → respond, then count the outcome.
 * It sees the engine only through the Routing interface.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeploymentTarget, Routing } from "../engine/index.js";
import { enforceColumns } from "../model/index.js";
import { PierError } from "../shared/index.js";
import { authenticate } from "./authenticate.js";
import { type Batch, batchSize, formatResponse, type Protocol, parseRequest } from "./formats.js";
import { forward } from "./forward.js";
import { HttpError } from "./http-error.js";
import type { GatewayMetrics } from "./metrics.js";
import type { RequestStats } from "./request-stats.js";
import { type Draw, drawMirrors, route } from "./traffic-draw.js";

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEPLOYMENT_HEADER = "azureml-model-deployment";
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path the gateway owns: /endpoints/NAME/(score | invocations | v2/…). */
export interface GatewayPath {
  endpoint: string;
  kind: Protocol | "health" | "metadata";
  /** The model name a v2 metadata request asks about. */
  model?: string;
}

const PATH =
  /^\/endpoints\/([^/]+)\/(score|invocations|v2\/models\/([^/]+)\/infer|v2\/health\/(ready|live)|v2\/models\/([^/]+))$/;

/** What a path asks for; undefined for paths that are not the gateway's. */
export function matchGatewayPath(pathname: string): GatewayPath | undefined {
  const match = PATH.exec(pathname);
  if (!match) return undefined;
  const endpoint = decodeURIComponent(match[1]!);
  if (match[4]) return { endpoint, kind: "health" };
  if (match[5]) return { endpoint, kind: "metadata", model: match[5] };
  return {
    endpoint,
    kind: match[2] === "score" ? "score" : match[2] === "invocations" ? "invocations" : "v2",
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError("PayloadTooLarge", `The request body exceeds ${MAX_BODY_BYTES / 2 ** 20} MiB`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** The headers every answer carries: a request id (the client's, if it is a GUID) and the client's own id. */
function requestHeaders(req: IncomingMessage): Record<string, string> {
  const clientRequestId = String(req.headers["x-ms-client-request-id"] ?? "")
    .replace(/[^A-Za-z0-9_-]/g, "")
    .slice(0, 40);
  const requestId = String(req.headers["x-request-id"] ?? "");
  return {
    "x-request-id": GUID.test(requestId) ? requestId : randomUUID(),
    ...(clientRequestId ? { "x-ms-client-request-id": clientRequestId } : {}),
  };
}

/** Named records checked against the target's signature; rows and unsigned models pass as they are. */
function conform(target: DeploymentTarget, batch: Batch): Batch {
  if (!("records" in batch) || !target.columns) return batch;
  return { ...batch, records: enforceColumns(batch.records, target.columns) };
}

/** Anything thrown while handling a request, as the answer the client gets. */
function asHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof PierError && error.class === "user") return new HttpError(error.code, error.summary);
  return new HttpError("InternalError", (error as Error).message);
}

export interface GatewayOptions {
  routing: Routing;
  metrics: GatewayMetrics;
  stats: RequestStats;
  /** The traffic draw; tests pass a seeded one. */
  draw?: Draw;
}

export interface Gateway {
  /** Handles /endpoints/… requests; returns false for paths it does not own. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
}

export function createGateway({ routing, metrics, stats, draw = Math.random }: GatewayOptions): Gateway {
  const current = (target: DeploymentTarget) => routing.target(target.endpoint, target.name);

  /** Sends copies to the mirror deployments; their answers are counted, never returned. */
  function mirror(endpoint: string, mirrorTraffic: Record<string, number>, batch: Batch, raw: string): void {
    for (const name of drawMirrors(mirrorTraffic, draw)) {
      const target = routing.target(endpoint, name);
      if (!target) continue;
      let body: string;
      try {
        body = target.rawRequests ? raw : JSON.stringify(conform(target, batch));
      } catch (error) {
        metrics.mirrored.inc({ endpoint, deployment: name, status: String(asHttpError(error).status) });
        continue;
      }
      forward(target, body, current).then(
        () => metrics.mirrored.inc({ endpoint, deployment: name, status: "200" }),
        (error: unknown) =>
          metrics.mirrored.inc({ endpoint, deployment: name, status: String(asHttpError(error).status) }),
      );
    }
  }

  /** Scores a request on its deployment; returns the response body. */
  async function score(
    req: IncomingMessage,
    body: Buffer,
    path: GatewayPath & { kind: Protocol },
    target: DeploymentTarget,
    pinned: boolean,
    mirrorTraffic: Record<string, number>,
  ): Promise<string> {
    // A scoring script's run() gets the body as it came, as Azure's inference server passes it.
    if (target.rawRequests) return forward(target, body.toString("utf8"), current);
    const batch = parseRequest(path.kind, req.headers["content-type"], body, target.columns);
    if (batchSize(batch) === 0) throw new HttpError("EmptyInput", "The request has no rows to score");
    if (!pinned) mirror(path.endpoint, mirrorTraffic, batch, body.toString("utf8"));
    const predictions = await forward(target, JSON.stringify(conform(target, batch)), current);
    return formatResponse(path.kind, predictions, target.modelName);
  }

  return {
    async handle(req, res, pathname) {
      const path = matchGatewayPath(pathname);
      if (!path) return false;
      const started = performance.now();
      const headers = requestHeaders(req);
      let deployment = "none";
      let counted: ReturnType<RequestStats["of"]> | undefined;
      let status = 200;
      let scoring = false;
      try {
        const endpoint = routing.endpoint(path.endpoint);
        if (!endpoint) throw new HttpError("EndpointNotFound", `Endpoint '${path.endpoint}' does not exist`);
        if (path.kind === "health") {
          send(res, 200, "", headers);
          return true;
        }
        if (req.method !== "POST" && !(path.kind === "metadata" && req.method === "GET"))
          throw new HttpError("MethodNotAllowed", `Use POST for ${pathname}`);
        authenticate(req.headers.authorization, endpoint, routing.verifyToken);
        const body = await readBody(req);
        const pin = req.headers[DEPLOYMENT_HEADER];
        const { target, pinned } = route(routing, endpoint, typeof pin === "string" ? pin : undefined, draw);
        deployment = target.name;
        counted = stats.of(target);
        counted.enter(req.socket);
        headers[DEPLOYMENT_HEADER] = target.name;
        if (path.kind === "metadata") {
          send(
            res,
            200,
            JSON.stringify({
              name: path.model,
              versions: [String(target.modelVersion)],
              platform: "pier-onnx",
              inputs: target.columns ?? [],
            }),
            headers,
          );
          return true;
        }
        scoring = true;
        const protocol = path as GatewayPath & { kind: Protocol };
        send(res, 200, await score(req, body, protocol, target, pinned, endpoint.mirrorTraffic), headers);
      } catch (error) {
        const e = asHttpError(error);
        status = e.status;
        scoring = true;
        send(res, e.status, JSON.stringify(e.body), { ...headers, ...e.headers });
      } finally {
        const ms = performance.now() - started;
        if (scoring) metrics.countRequest(path.endpoint, deployment, status);
        metrics.observeLatency(path.endpoint, deployment, ms / 1000);
        counted?.leave(status, ms);
      }
      return true;
    },
  };
}
