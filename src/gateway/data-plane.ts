/**
 * The data plane: what every scoring request goes through, whichever protocol brought it, as named
 * steps. A protocol adapter (protocols/) has matched the path; then:
 *   authenticate (authenticate.ts) → read the body → wait for a restore → route (traffic-draw.ts) →
 *   serve: prepare (prepare-pool.ts, the adapter's parse) → admit and forward (forward.ts) → format
 *   (the adapter's), with capture (capture-tap.ts) and the rollout tap (rollout-tap.ts) →
 *   respond → mirror, once the answer is on its way → count (tally.ts).
 * It sees the engine only through the Routing interface.
 */
import { randomUUID } from "node:crypto";
import type { DeploymentTarget, EndpointRoute, Routing } from "../engine/index.js";
import {
  decodePathSegment,
  type Logger,
  type PierRequest,
  type PierResponse,
  pathOf,
} from "../shared/index.js";
import { authenticate } from "./authenticate.js";
import type { CaptureTap, Collector } from "./capture-tap.js";
import { asHttpError } from "./errors.js";
import { forward, stallAfter } from "./forward.js";
import { HttpError } from "./http-error.js";
import type { GatewayMetrics } from "./metrics.js";
import type { Prepared } from "./prepare.js";
import type { PreparePool } from "./prepare-pool.js";
import type { ProtocolAdapter, ProtocolRoute, Reply } from "./protocol.js";
import type { RequestStats } from "./request-stats.js";
import { type Answer, type RolloutTap, type Served, serveInRollout, shadowCompare } from "./rollout-tap.js";
import { scriptAnswer, scriptRequest } from "./script.js";
import { StageTimes, TIMING_HEADER } from "./stage-times.js";
import { Tally } from "./tally.js";
import { type Draw, drawMirrors, route as routeRequest } from "./traffic-draw.js";

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DEPLOYMENT_HEADER = "azureml-model-deployment";
/** How long a request that comes while pier restores its deployments waits for them. */
const RESTORE_WAIT_MS = 30_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The ids every answer carries: a request id (the client's, if it is a GUID) and the client's own id. */
export function requestIds(headers: PierRequest["headers"]): Record<string, string> {
  const clientRequestId = String(headers["x-ms-client-request-id"] ?? "")
    .replace(/[^A-Za-z0-9_-]/g, "")
    .slice(0, 40);
  const requestId = String(headers["x-request-id"] ?? "");
  return {
    "x-request-id": GUID.test(requestId) ? requestId : randomUUID(),
    ...(clientRequestId ? { "x-ms-client-request-id": clientRequestId } : {}),
  };
}

/** Just after a restart the deployments are still starting: a request waits for them rather than get 503. */
async function awaitRestore(routing: Routing): Promise<void> {
  const restoring = routing.restoring();
  if (restoring) await Promise.race([restoring, new Promise((r) => setTimeout(r, RESTORE_WAIT_MS).unref())]);
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

/** A scoring request on its way: what was asked, on which protocol, with which ids. */
interface Scoring {
  req: PierRequest;
  body: Buffer;
  adapter: ProtocolAdapter;
  route: ProtocolRoute;
  ids: Record<string, string>;
  /** The request's stages, when its client asked for them (x-pier-timing). */
  timing?: StageTimes;
}

/**
 * Capture: when the deployment's collector samples this request, a function that hands the answered
 * exchange to it (undefined, and capture costs nothing, when it does not).
 */
export function captureStep(
  collector: Collector | undefined,
  scoring: Pick<Scoring, "req" | "body" | "ids">,
  served: { instance: string },
): ((answer: Answer, model?: { inputs: string | undefined; outputs: string }) => void) | undefined {
  const draw = collector?.sample();
  if (draw === undefined || !collector) return undefined;
  const { req, body, ids } = scoring;
  return (answer, model) =>
    collector.record({
      draw,
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
}

const replyResponse = (reply: Reply, headers: Record<string, string>): PierResponse => ({
  status: reply.status,
  headers: {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(reply.body),
    ...reply.headers,
    ...headers,
  },
  body: reply.body,
});

export interface DataPlaneOptions {
  routing: Routing;
  /** Where pier's own failures are logged (clients only learn that one happened). */
  logger?: Logger;
  metrics: GatewayMetrics;
  stats: RequestStats;
  prepare: PreparePool;
  /** The traffic draw; tests pass a seeded one. */
  draw?: Draw;
  /** The rollout in progress on an endpoint, if any. */
  rollouts?: (endpoint: string) => RolloutTap | undefined;
  /**
   * The deployment that takes a drawn one's request while that one has no running instance: an open
   * rollout's stable for its new deployment, from pier's start on (before the rollout resumes).
   */
  insteadOf?: (endpoint: string, drawn: string) => string | undefined;
  /** The data collector of a deployment, if its YAML has one. */
  capture?: CaptureTap;
  /** Every scoring request's outcome, for requests over time. */
  observe?: (endpoint: string, deployment: string, status: number, ms: number) => void;
}

export class DataPlane {
  readonly #routing: Routing;
  readonly #options: DataPlaneOptions;
  readonly #draw: Draw;

  constructor(options: DataPlaneOptions) {
    this.#options = options;
    this.#routing = options.routing;
    this.#draw = options.draw ?? Math.random;
  }

  #logBug = (error: unknown) =>
    this.#options.logger?.error(`gateway: ${(error as Error).message}`, {
      stack: (error as Error).stack ?? "",
    });

  /** A forward whose failure counts against the model (an input it refused does not). */
  #counted<T>(target: DeploymentTarget, answer: Promise<T>): Promise<T> {
    return answer.catch((error: unknown) => {
      if (asHttpError(error).status !== 400) this.#options.metrics.modelFailed(target);
      throw error;
    });
  }

  /**
   * One deployment's answer to a scoring request. A model gets the body parsed and checked for it
   * by the protocol (a 4xx, thrown, when it does not fit), then the instance's predictions in the
   * protocol's form; a scoring script gets the request as Azure's server takes it, and answers with
   * its own status.
   */
  async serve(target: DeploymentTarget, scoring: Scoring, shared?: SharedPreparation): Promise<Answer> {
    const { metrics, stats, capture, prepare } = this.#options;
    const current = (t: DeploymentTarget) => this.#routing.target(t.endpoint, t.name);
    const stall = stallAfter(target.requestTimeoutMs, stats.of(target).p99());
    const collector = target.dataCollector ? capture?.(target) : undefined;
    const served: { instance: string; admittedAt?: number } = { instance: "" };
    const keep = captureStep(collector, scoring, served);
    const { req, body, adapter, ids } = scoring;
    if (target.rawRequests) {
      // A scoring script answers as Azure's inference server does; a 5xx is the endpoint's 424.
      const began = performance.now();
      const reply = scriptAnswer(
        await this.#counted(target, forward(target, scriptRequest(req, body, ids), current, stall, served)),
      );
      if (reply.serverStatus >= 500) metrics.modelFailed(target);
      else metrics.observeModel(target, (performance.now() - began) / 1000, 1);
      const answer: Answer = {
        status: reply.status,
        serverStatus: reply.serverStatus,
        body: reply.body,
        headers: reply.headers,
        text: reply.body.toString("utf8"),
        ...(reply.failure ? { failure: reply.failure } : {}),
      };
      keep?.(answer);
      return answer;
    }
    if (req.method !== "POST") throw new HttpError("MethodNotAllowed", `Use POST for ${req.url}`);
    const method = req.headers["x-pier-predict-method"];
    // A mirror copy to a deployment that takes the same inputs reuses the live request's preparation.
    const key = interfaceKey(target);
    const wantsInputs = keep !== undefined && (collector?.wantsInputs ?? false);
    const reused =
      shared?.prepared && shared.key === key && (!wantsInputs || shared.prepared.inputs !== undefined)
        ? shared.prepared
        : undefined;
    const prepared =
      reused ??
      (await prepare.prepare({
        protocol: adapter.name,
        contentType: req.headers["content-type"],
        body,
        iface: target.interface,
        paramNames: target.paramNames,
        predictMethod: typeof method === "string" && method ? method : undefined,
        captureInputs: wantsInputs,
      }));
    if (shared && !shared.prepared) Object.assign(shared, { prepared, key });
    if (prepared.rows === 0) throw new HttpError("EmptyInput", "The request has no rows to score");
    const { timing } = scoring;
    timing?.mark(reused ? "prepare (shared)" : "prepare");
    const began = performance.now();
    const predictions = await this.#counted(target, forward(target, prepared.text, current, stall, served));
    metrics.observeModel(target, (performance.now() - began) / 1000, prepared.rows);
    if (timing && served.admittedAt !== undefined) timing.mark("queue", served.admittedAt);
    timing?.mark("instance");
    const route = scoring.route as { model?: string; version?: string };
    const answer: Answer = {
      status: 200,
      body: adapter.format(predictions, target.answers === "view" ? "view" : "values", {
        modelName: route.model ?? target.modelName,
        modelVersion: route.version ?? String(target.modelVersion),
        ...(prepared.id !== undefined ? { id: prepared.id } : {}),
        ...(prepared.outputs ? { outputs: prepared.outputs } : {}),
      }),
      // MLflow logs a warning for params a model declares no schema for; pier says so in a header.
      headers: prepared.ignoredParams ? { "x-pier-params-ignored": prepared.ignoredParams.join(",") } : {},
      text: predictions,
    };
    timing?.mark("format");
    keep?.(answer, { inputs: prepared.inputs, outputs: predictions });
    return answer;
  }

  /**
   * Mirror: copies to the mirror deployments; their answers are counted, never returned. During a
   * rollout's shadow bake, the copy to the new deployment is compared with the live answer.
   */
  mirror(
    endpoint: string,
    mirrorTraffic: Record<string, number>,
    live: () => Promise<Answer>,
    scoring: Scoring,
    tap: RolloutTap | undefined,
    shared: SharedPreparation,
  ): void {
    const { metrics } = this.#options;
    for (const name of drawMirrors(mirrorTraffic, this.#draw)) {
      const target = this.#routing.target(endpoint, name);
      if (!target) continue;
      // A copy has its own ids, and no part in the live request's stage times.
      const { timing: _timing, ...copied } = scoring;
      const copy = this.serve(target, { ...copied, ids: { "x-request-id": randomUUID() } }, shared);
      copy.then(
        (answer) => metrics.mirrored.inc({ endpoint, deployment: name, status: String(answer.status) }),
        (error: unknown) =>
          metrics.mirrored.inc({ endpoint, deployment: name, status: String(asHttpError(error).status) }),
      );
      if (tap?.candidate === name) shadowCompare(tap, live(), copy);
    }
  }

  /** A v2 path's model must be served by the endpoint: only deployments of that model (and version) are drawn. */
  static servesModel(route: { model?: string; version?: string }) {
    return route.model === undefined
      ? undefined
      : (target: DeploymentTarget) =>
          target.modelName === route.model &&
          (route.version === undefined || String(target.modelVersion) === route.version);
  }

  /** A request refused before it reached a route, in the protocol's error body. */
  async refuse(adapter: ProtocolAdapter, error: unknown): Promise<PierResponse> {
    const rendered = adapter.renderError(asHttpError(error, this.#logBug));
    return replyResponse({ status: rendered.status, body: rendered.body }, rendered.headers);
  }

  /** Answers a request on a protocol's route of endpoint `endpointSegment` (still percent-encoded). */
  async handle(
    req: PierRequest,
    endpointSegment: string,
    route: ProtocolRoute,
    adapter: ProtocolAdapter,
  ): Promise<PierResponse> {
    const ids = requestIds(req.headers);
    const headers: Record<string, string> = { ...ids, ...adapter.answerHeaders?.(req.headers, ids) };
    const tally = new Tally(this.#options, req.connection);
    let mirrorAfter: (() => void) | undefined;
    try {
      const name = decodePathSegment(endpointSegment);
      const endpoint = this.#routing.endpoint(name);
      tally.endpoint = endpoint?.name;
      if (!endpoint) throw new HttpError("EndpointNotFound", `Endpoint '${name}' does not exist`);
      if (route.access === "open") {
        if (!route.methods.includes(req.method))
          throw new HttpError("MethodNotAllowed", `Use GET for ${pathOf(req.url)}`);
        return replyResponse(route.answer(endpoint, this.#routing), headers);
      }
      const timing = req.headers[TIMING_HEADER] !== undefined ? new StageTimes() : undefined;
      const { target, pinned, body } = await this.#admit(req, endpoint, route);
      timing?.mark("admit");
      tally.routedTo(target);
      headers[DEPLOYMENT_HEADER] = target.name;
      if (route.access === "read") return replyResponse(route.answer(target, endpoint, req.url), headers);
      tally.scoring = true;
      if (!target.rawRequests && req.method !== "POST")
        throw new HttpError("MethodNotAllowed", `Use POST for ${pathOf(req.url)}`);
      const scoring: Scoring = { req, body, adapter, route, ids: headers, ...(timing ? { timing } : {}) };
      const { served, mirror } = this.#score(endpoint, target, pinned, scoring);
      mirrorAfter = mirror;
      const { answer, target: answered, failed } = await served;
      // The new deployment failed it and the stable answered: the client learns which did.
      if (answered !== target) {
        tally.answeredInstead(answered, failed);
        headers[DEPLOYMENT_HEADER] = answered.name;
      }
      tally.answered(answer, target.rawRequests);
      const bodyBytes = typeof answer.body === "string" ? Buffer.from(answer.body) : answer.body;
      if (timing) headers["server-timing"] = timing.header();
      return {
        status: answer.status,
        headers: {
          "content-type": "application/json",
          ...answer.headers,
          ...headers,
          "content-length": bodyBytes.length,
        },
        body: bodyBytes,
        ...(mirrorAfter ? { afterSend: mirrorAfter } : {}),
      };
    } catch (error) {
      const e = asHttpError(error, this.#logBug);
      const rendered = adapter.renderError(e);
      tally.failed(e, rendered.status);
      return {
        ...replyResponse(
          { status: rendered.status, body: rendered.body },
          { ...headers, ...rendered.headers },
        ),
        ...(mirrorAfter ? { afterSend: mirrorAfter } : {}),
      };
    } finally {
      tally.finish();
    }
  }

  /**
   * Admit a request to a route that reads or scores: its method, its credentials, its body (read only
   * now, once the caller is known), the restore it waits for, and the deployment it is routed to.
   */
  async #admit(
    req: PierRequest,
    endpoint: EndpointRoute,
    route: Exclude<ProtocolRoute, { access: "open" }>,
  ): Promise<{ target: DeploymentTarget; pinned: boolean; body: Buffer }> {
    const methodOk =
      route.access === "read" ? req.method === "GET" : route.anyMethodForScripts || req.method === "POST";
    if (!methodOk)
      throw new HttpError(
        "MethodNotAllowed",
        `Use ${route.access === "read" ? "GET" : "POST"} for ${pathOf(req.url)}`,
      );
    authenticate(req.headers.authorization, endpoint, this.#routing.verifyToken);
    const body = await req.body(MAX_BODY_BYTES);
    await awaitRestore(this.#routing);
    const pin = req.headers[DEPLOYMENT_HEADER];
    // A rollout's new deployment with no running instance (it failed its restore, it is restarting):
    // its share goes to the stable, so no client sees its failure.
    const { insteadOf } = this.#options;
    const routed = routeRequest(
      this.#routing,
      endpoint,
      typeof pin === "string" ? pin : undefined,
      this.#draw,
      DataPlane.servesModel(route),
      insteadOf && ((drawn) => insteadOf(endpoint.name, drawn)),
    );
    return { ...routed, body };
  }

  /**
   * Scores on the routed deployment — under the endpoint's rollout, when one runs and the request is
   * not pinned — and the mirror copies to send once the answer is on its way.
   */
  #score(
    endpoint: EndpointRoute,
    target: DeploymentTarget,
    pinned: boolean,
    scoring: Scoring,
  ): { served: Promise<Served>; mirror: (() => void) | undefined } {
    const tap = pinned ? undefined : this.#options.rollouts?.(endpoint.name);
    const shared: SharedPreparation = {};
    const served =
      tap && (target.name === tap.candidate || target.name === tap.stable)
        ? serveInRollout(
            tap,
            target,
            this.#routing.target(endpoint.name, tap.stable),
            (t) => this.serve(t, scoring, shared),
            this.#draw,
          )
        : this.serve(target, scoring, shared).then((answer): Served => ({ answer, target }));
    const mirror = pinned
      ? undefined
      : () =>
          this.mirror(
            endpoint.name,
            endpoint.mirrorTraffic,
            () => served.then((s) => s.answer),
            scoring,
            tap,
            shared,
          );
    return { served, mirror };
  }
}
