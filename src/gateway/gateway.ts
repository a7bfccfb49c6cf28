/**
 * The data plane, as named steps: match the route → authenticate (authenticate.ts) → route to a
 * deployment (traffic-draw.ts) → parse the request into what the model takes (formats.ts) → mirror →
 * admit and forward (forward.ts) → respond in the route's protocol (errors.ts for failures), then
 * count the outcome. It sees the engine only through the Routing interface.
 *
 * Routes under /endpoints/NAME/: score (Azure), invocations with ping, health and version beside it
 * (MLflow's scoring server), and v2 (the Open Inference Protocol: server metadata and health, model
 * metadata, ready and infer, each also under versions/V).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeploymentTarget, Routing } from "../engine/index.js";
import { type ModelInterface, v2Datatype } from "../model/index.js";
import { decodePathSegment, type Logger, PIER_VERSION, readBody } from "../shared/index.js";
import { authenticate } from "./authenticate.js";
import type { CaptureTap } from "./capture-tap.js";
import { asHttpError, renderError } from "./errors.js";
import { formatResponse, type Protocol } from "./formats.js";
import { forward, stallAfter } from "./forward.js";
import { HttpError } from "./http-error.js";
import type { GatewayMetrics } from "./metrics.js";
import type { Prepared } from "./prepare.js";
import { PreparePool } from "./prepare-pool.js";
import type { RequestStats } from "./request-stats.js";
import { type Answer, type RolloutTap, type Served, serveInRollout, shadowCompare } from "./rollout-tap.js";
import { scriptAnswer, scriptRequest } from "./script.js";
import { swaggerDocument } from "./swagger.js";
import { type Draw, drawMirrors, route } from "./traffic-draw.js";

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEPLOYMENT_HEADER = "azureml-model-deployment";
/** How long a request that comes while pier restores its deployments waits for them. */
const RESTORE_WAIT_MS = 30_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Kind =
  | Protocol
  | "swagger"
  | "ping"
  | "version"
  | "v2-server"
  | "v2-health"
  | "v2-metadata"
  | "v2-ready";

/** A path the gateway owns. */
export interface GatewayPath {
  endpoint: string;
  kind: Kind;
  /** v2: the model (and version) the path names. */
  model?: string;
  version?: string;
}

const PATH =
  /^\/endpoints\/([^/]+)\/(score|swagger\.json|invocations|ping|health|version|v2|v2\/health\/(?:ready|live)|v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/infer|\/ready)?)$/;

/** What a path asks for; undefined for paths that are not the gateway's. */
export function matchGatewayPath(pathname: string): GatewayPath | undefined {
  const match = PATH.exec(pathname);
  if (!match) return undefined;
  const endpoint = decodePathSegment(match[1]!);
  const route = match[2]!;
  if (match[3] !== undefined) {
    const kind = match[5] === "/infer" ? "v2" : match[5] === "/ready" ? "v2-ready" : "v2-metadata";
    return {
      endpoint,
      kind,
      model: decodePathSegment(match[3]),
      ...(match[4] !== undefined ? { version: decodePathSegment(match[4]) } : {}),
    };
  }
  const kinds: Record<string, Kind> = {
    score: "score",
    "swagger.json": "swagger",
    invocations: "invocations",
    ping: "ping",
    health: "ping",
    version: "version",
    v2: "v2-server",
  };
  return { endpoint, kind: kinds[route] ?? "v2-health" };
}

/** The protocol whose error bodies a path's failures take. */
const protocolOf = (kind: Kind): Protocol | "other" =>
  kind === "score" || kind === "invocations"
    ? kind
    : kind === "swagger"
      ? "score"
      : kind === "ping" || kind === "version"
        ? "invocations"
        : kind.startsWith("v2")
          ? "v2"
          : "other";

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/**
 * x-ms-request-id, as Azure's inference server sets it on /score answers (routes.py, _init_headers):
 * the client's x-ms-request-id (deprecated), else its x-ms-client-request-id, else x-request-id.
 */
function scriptIds(req: IncomingMessage, headers: Record<string, string>): Record<string, string> {
  const legacy = String(req.headers["x-ms-request-id"] ?? "")
    .replace(/[^A-Za-z0-9_-]/g, "")
    .slice(0, 100);
  return { "x-ms-request-id": legacy || headers["x-ms-client-request-id"] || headers["x-request-id"]! };
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

const COLUMN_DATATYPES: Record<string, string> = {
  double: "FP64",
  float: "FP32",
  long: "INT64",
  integer: "INT32",
  boolean: "BOOL",
};

/** A model's metadata as the Open Inference Protocol gives it: name, versions, platform, inputs and outputs with datatype and shape. */
function v2Metadata(name: string, target: DeploymentTarget): unknown {
  const iface: ModelInterface = target.interface;
  const inputs =
    iface.inputs.kind === "tensors"
      ? iface.inputs.tensors.map((t) => ({
          name: t.name,
          datatype: v2Datatype(t.dtype),
          shape: t.shape ?? [-1],
        }))
      : iface.inputs.kind === "columns"
        ? iface.inputs.columns.map((c) => ({
            name: String(c.name),
            datatype: COLUMN_DATATYPES[c.type] ?? "BYTES",
            shape: [-1],
          }))
        : [];
  const outputs = (iface.outputs ?? []).flatMap((o) =>
    o.kind === "tensor"
      ? [{ name: o.name, datatype: v2Datatype(o.dtype), shape: o.shape ?? [-1] }]
      : o.kind === "zipmap"
        ? [{ name: o.name, datatype: "FP32", shape: [-1, o.labels.length] }]
        : [],
  );
  return {
    name,
    versions: [String(target.modelVersion)],
    platform: target.answers === "view" ? "onnxruntime_onnx" : "mlflow",
    inputs,
    outputs,
  };
}

/** A request's preparation, kept for its mirror copies: what the instance reads, and for which interface. */
interface SharedPreparation {
  prepared?: Prepared;
  key?: string;
}

const interfaceKeys = new WeakMap<DeploymentTarget, string>();

/** Two deployments with the same key take a request prepared the same way. */
function interfaceKey(target: DeploymentTarget): string {
  let key = interfaceKeys.get(target);
  if (key === undefined) {
    key = JSON.stringify([target.interface, target.paramNames, target.answers]);
    interfaceKeys.set(target, key);
  }
  return key;
}

export interface GatewayOptions {
  routing: Routing;
  /** Where pier's own failures are logged (clients only learn that one happened). */
  logger?: Logger;
  metrics: GatewayMetrics;
  stats: RequestStats;
  /** The traffic draw; tests pass a seeded one. */
  draw?: Draw;
  /** The rollout in progress on an endpoint, if any. */
  rollouts?: (endpoint: string) => RolloutTap | undefined;
  /** The data collector of a deployment, if its YAML has one. */
  capture?: CaptureTap;
  /** Every scoring request's outcome, for requests over time. */
  observe?: (endpoint: string, deployment: string, status: number, ms: number) => void;
}

export interface Gateway {
  /** Handles /endpoints/… requests; returns false for paths it does not own. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
  /** Ends the worker threads that prepare large bodies. */
  close(): Promise<void>;
}

export function createGateway({
  routing,
  metrics,
  stats,
  logger,
  draw = Math.random,
  rollouts = () => undefined,
  capture = () => undefined,
  observe,
}: GatewayOptions): Gateway {
  const logBug = (error: unknown) =>
    logger?.error(`gateway: ${(error as Error).message}`, { stack: (error as Error).stack ?? "" });
  const current = (target: DeploymentTarget) => routing.target(target.endpoint, target.name);
  const prepare = new PreparePool();

  /** A forward whose failure counts against the model (an input it refused does not). */
  const counted = <T>(target: DeploymentTarget, answer: Promise<T>): Promise<T> =>
    answer.catch((error: unknown) => {
      if (asHttpError(error).status !== 400) metrics.modelFailed(target);
      throw error;
    });

  /**
   * One deployment's answer to a scoring request. An MLflow model gets the body parsed and checked for
   * it (a 4xx, thrown, when it does not fit), then the instance's predictions in the route's protocol;
   * a scoring script gets the request as Azure's server takes it, and answers with its own status.
   */
  async function serveOn(
    target: DeploymentTarget,
    req: IncomingMessage,
    body: Buffer,
    path: GatewayPath,
    ids: Record<string, string>,
    shared?: SharedPreparation,
  ): Promise<Answer> {
    const stall = stallAfter(target.requestTimeoutMs, stats.of(target).p99());
    const collector = target.dataCollector ? capture(target) : undefined;
    const draw = collector?.sample();
    const captured = draw !== undefined ? collector : undefined;
    const served = { instance: "" };
    const keep = (answer: Answer, model?: { inputs: string | undefined; outputs: string }) =>
      captured?.record({
        draw: draw!,
        correlationId: ids["x-request-id"]!,
        clientRequestId: ids["x-ms-client-request-id"],
        instance: served.instance,
        headers: req.headers,
        body,
        contentType: req.headers["content-type"],
        ...(model?.inputs !== undefined ? { inputs: model.inputs } : {}),
        ...(model ? { outputs: model.outputs } : {}),
        status: answer.status,
        response: answer.body,
      });
    if (target.rawRequests) {
      // A scoring script answers as Azure's inference server does; a 5xx is the endpoint's 424.
      const began = performance.now();
      const reply = scriptAnswer(
        await counted(target, forward(target, scriptRequest(req, body, ids), current, stall, served)),
      );
      if (reply.status >= 500) metrics.modelFailed(target);
      else metrics.observeModel(target, (performance.now() - began) / 1000, 1);
      const answer = {
        status: reply.status,
        body: reply.body,
        headers: reply.headers,
        text: reply.body.toString("utf8"),
      };
      keep(answer);
      return answer;
    }
    if (req.method !== "POST")
      throw new HttpError("MethodNotAllowed", `Use POST for /endpoints/${path.endpoint}/${path.kind}`);
    const protocol = path.kind as Protocol;
    const method = req.headers["x-pier-predict-method"];
    // A mirror copy to a deployment that takes the same inputs reuses the live request's preparation.
    const key = interfaceKey(target);
    const wantsInputs = captured?.wantsInputs ?? false;
    const reused =
      shared?.prepared && shared.key === key && (!wantsInputs || shared.prepared.inputs !== undefined)
        ? shared.prepared
        : undefined;
    const prepared =
      reused ??
      (await prepare.prepare({
        protocol,
        contentType: req.headers["content-type"],
        body,
        iface: target.interface,
        paramNames: target.paramNames,
        predictMethod: typeof method === "string" && method ? method : undefined,
        captureInputs: wantsInputs,
      }));
    if (shared && !shared.prepared) Object.assign(shared, { prepared, key });
    if (prepared.rows === 0) throw new HttpError("EmptyInput", "The request has no rows to score");
    const began = performance.now();
    const predictions = await counted(target, forward(target, prepared.text, current, stall, served));
    metrics.observeModel(target, (performance.now() - began) / 1000, prepared.rows);
    const answer: Answer = {
      status: 200,
      body: formatResponse(protocol, predictions, target.answers === "view" ? "view" : "values", {
        modelName: path.model ?? target.modelName,
        modelVersion: path.version ?? String(target.modelVersion),
        ...(prepared.id !== undefined ? { id: prepared.id } : {}),
        ...(prepared.outputs ? { outputs: prepared.outputs } : {}),
      }),
      // MLflow logs a warning for params a model declares no schema for; pier says so in a header.
      headers: prepared.ignoredParams ? { "x-pier-params-ignored": prepared.ignoredParams.join(",") } : {},
      text: predictions,
    };
    keep(answer, { inputs: prepared.inputs, outputs: predictions });
    return answer;
  }

  /**
   * Sends copies to the mirror deployments; their answers are counted, never returned. During a
   * rollout's shadow bake, the copy to the new deployment is compared with the live answer.
   */
  function mirror(
    endpoint: string,
    mirrorTraffic: Record<string, number>,
    live: () => Promise<Answer>,
    req: IncomingMessage,
    body: Buffer,
    path: GatewayPath,
    tap: RolloutTap | undefined,
    shared: SharedPreparation,
  ): void {
    for (const name of drawMirrors(mirrorTraffic, draw)) {
      const target = routing.target(endpoint, name);
      if (!target) continue;
      const copy = serveOn(target, req, body, path, { "x-request-id": randomUUID() }, shared);
      copy.then(
        (answer) => metrics.mirrored.inc({ endpoint, deployment: name, status: String(answer.status) }),
        (error: unknown) =>
          metrics.mirrored.inc({ endpoint, deployment: name, status: String(asHttpError(error).status) }),
      );
      if (tap?.candidate === name) shadowCompare(tap, live(), copy);
    }
  }

  /** A v2 path's model must be served by the endpoint: only deployments of that model (and version) are drawn. */
  const servesModel = (path: GatewayPath) =>
    path.model === undefined
      ? undefined
      : (target: DeploymentTarget) =>
          target.modelName === path.model &&
          (path.version === undefined || String(target.modelVersion) === path.version);

  return {
    close: () => prepare.close(),
    async handle(req, res, pathname) {
      const path = matchGatewayPath(pathname);
      if (!path) return false;
      const started = performance.now();
      const headers = requestHeaders(req);
      // /score answers carry the id Azure's inference server sets, for MLflow models as for scripts.
      if (path.kind === "score") Object.assign(headers, scriptIds(req, headers));
      let deployment = "none";
      let counted: ReturnType<RequestStats["of"]> | undefined;
      let status = 200;
      let outcome = 200;
      let refusal: { code: string; message: string } | undefined;
      let scoring = false;
      let mirrorAfter: (() => void) | undefined;
      try {
        const endpoint = routing.endpoint(path.endpoint);
        if (!endpoint) throw new HttpError("EndpointNotFound", `Endpoint '${path.endpoint}' does not exist`);
        if (
          path.kind === "ping" ||
          path.kind === "v2-health" ||
          path.kind === "v2-server" ||
          path.kind === "version"
        ) {
          if (req.method !== "GET" && req.method !== "HEAD")
            throw new HttpError("MethodNotAllowed", `Use GET for ${pathname}`);
          if (path.kind === "v2-server")
            send(res, 200, JSON.stringify({ name: "pier", version: PIER_VERSION, extensions: [] }), headers);
          else if (path.kind === "version") {
            // MLflow's /version gives the MLflow version serving; pier gives the one the model was saved with.
            const versions = routing
              .targets()
              .filter((t) => t.endpoint === endpoint.name)
              .map((t) => t.mlflowVersion);
            send(res, 200, versions.find((v) => v) ?? `pier ${PIER_VERSION}`, {
              ...headers,
              "content-type": "text/plain",
            });
          } else send(res, 200, path.kind === "ping" ? "\n" : "", headers);
          return true;
        }
        const reads = path.kind === "v2-metadata" || path.kind === "v2-ready" || path.kind === "swagger";
        // /score takes any method here: a scoring script's server answers GET and OPTIONS itself.
        if (path.kind !== "score" && (reads ? req.method !== "GET" : req.method !== "POST"))
          throw new HttpError("MethodNotAllowed", `Use ${reads ? "GET" : "POST"} for ${pathname}`);
        authenticate(req.headers.authorization, endpoint, routing.verifyToken);
        const body = await readBody(req, MAX_BODY_BYTES);
        // Just after a restart the deployments are still starting: wait for them rather than answer 503.
        const restoring = routing.restoring();
        if (restoring)
          await Promise.race([restoring, new Promise((r) => setTimeout(r, RESTORE_WAIT_MS).unref())]);
        const pin = req.headers[DEPLOYMENT_HEADER];
        const { target, pinned } = route(
          routing,
          endpoint,
          typeof pin === "string" ? pin : undefined,
          draw,
          servesModel(path),
        );
        deployment = target.name;
        counted = stats.of(target);
        counted.enter(req.socket);
        headers[DEPLOYMENT_HEADER] = target.name;
        if (path.kind === "v2-metadata") {
          send(res, 200, JSON.stringify(v2Metadata(path.model!, target)), headers);
          return true;
        }
        if (path.kind === "v2-ready") {
          send(res, 200, "", headers);
          return true;
        }
        if (path.kind === "swagger") {
          const query = new URL(req.url ?? "/", "http://pier").searchParams.get("version");
          const document = swaggerDocument(
            target,
            query,
            `${endpoint.name}/${target.name}`,
            `/endpoints/${endpoint.name}`,
          );
          send(res, document.status, JSON.stringify(document.body), headers);
          return true;
        }
        scoring = true;
        if (!target.rawRequests && req.method !== "POST")
          throw new HttpError("MethodNotAllowed", `Use POST for ${pathname}`);
        const tap = pinned ? undefined : rollouts(endpoint.name);
        const shared: SharedPreparation = {};
        const served =
          tap && (target.name === tap.candidate || target.name === tap.stable)
            ? serveInRollout(
                tap,
                target,
                routing.target(endpoint.name, tap.stable),
                (t) => serveOn(t, req, body, path, headers, shared),
                draw,
              )
            : serveOn(target, req, body, path, headers, shared).then(
                (answer): Served => ({ answer, target }),
              );
        // Copies to the mirror deployment leave once the live answer is sent: they cost it nothing.
        if (!pinned)
          mirrorAfter = () =>
            mirror(
              path.endpoint,
              endpoint.mirrorTraffic,
              () => served.then((s) => s.answer),
              req,
              body,
              path,
              tap,
              shared,
            );
        const { answer, target: answered, failed } = await served;
        if (answered !== target) {
          // The new deployment failed it and the stable answered: the client learns which did, and the
          // new deployment's outcome is its failure (the doctor's evidence).
          deployment = answered.name;
          counted.leave(
            failed?.status === 424 || failed?.code === "ModelError" ? 424 : (failed?.status ?? 500),
            performance.now() - started,
            failed,
          );
          counted = stats.of(answered);
          counted.enter(req.socket);
          headers[DEPLOYMENT_HEADER] = answered.name;
        }
        status = answer.status;
        outcome = answer.status;
        if (target.rawRequests && answer.status === 400)
          refusal = { code: "BadRequest", message: answer.text.slice(0, 300) };
        const bodyBytes = typeof answer.body === "string" ? Buffer.from(answer.body) : answer.body;
        res.writeHead(answer.status, {
          "content-type": "application/json",
          ...answer.headers,
          ...headers,
          "content-length": bodyBytes.length,
        });
        res.end(bodyBytes);
      } catch (error) {
        const e = asHttpError(error, logBug);
        const rendered = renderError(protocolOf(path.kind), e);
        status = rendered.status;
        // The doctor reads what happened, not how a protocol words it: a model's failure is a 424.
        outcome = e.code === "ModelError" ? 424 : status;
        refusal = { code: e.code, message: e.message };
        scoring = true;
        send(res, status, rendered.body, { ...headers, ...rendered.headers });
      } finally {
        if (mirrorAfter) setImmediate(mirrorAfter);
        const ms = performance.now() - started;
        // Labels only for endpoints that exist: made-up names share one, so /metrics stays bounded.
        const label = routing.endpoint(path.endpoint) ? path.endpoint : "(unknown)";
        if (scoring) {
          metrics.countRequest(label, deployment, status);
          if (deployment !== "none") observe?.(path.endpoint, deployment, outcome, ms);
        }
        metrics.observeLatency(label, deployment, ms / 1000);
        counted?.leave(outcome, ms, refusal);
      }
      return true;
    },
  };
}
