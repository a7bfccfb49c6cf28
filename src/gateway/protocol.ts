/**
 * What a protocol adapter (protocols/azure.ts, mlflow.ts, v2.ts) owns: the paths it answers under
 * /endpoints/NAME/, how it reads a scoring body into what the model takes, how it writes the answer,
 * how its errors look, and its metadata routes. The data plane (data-plane.ts) does the rest, the
 * same for all: authenticate, route, admit, forward, capture, mirror, the rollout tap, count.
 */
import type { DeploymentTarget, EndpointRoute, Routing } from "../engine/index.js";
import type { ModelInterface } from "../model/index.js";
import type { HttpError } from "./http-error.js";
import type { AnswerContext, AnswerKind, Batch, ParamNames } from "./shapes.js";

/** Which protocol a request came in: Azure's /score, MLflow's /invocations, or the Open Inference Protocol. */
export type Protocol = "score" | "invocations" | "v2";

/** An answer a protocol makes itself (metadata, health). */
export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A route answered without credentials or a body, as soon as the endpoint exists (liveness, versions). */
export interface OpenRoute {
  access: "open";
  methods: readonly string[];
  answer(endpoint: EndpointRoute, routing: Routing): Reply;
}

/** A route that reads about the deployment it is routed to (model metadata, readiness, swagger). */
export interface ReadRoute {
  access: "read";
  /** A v2 path's model (and version): only deployments of it are drawn. */
  model?: string;
  version?: string;
  answer(target: DeploymentTarget, endpoint: EndpointRoute, url: string): Reply;
}

/** A scoring route: authenticated, a body, routed, admitted, forwarded. */
export interface InferRoute {
  access: "infer";
  model?: string;
  version?: string;
  /** Any method reaches a scoring script (its server answers GET and OPTIONS itself); models take POST. */
  anyMethodForScripts: boolean;
}

export type ProtocolRoute = OpenRoute | ReadRoute | InferRoute;

/** An error as the protocol's clients read it. */
export interface ErrorResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface ProtocolAdapter {
  readonly name: Protocol;
  /** The route `rest` (the path after /endpoints/NAME/) asks for; undefined when it is not this protocol's. */
  match(rest: string): ProtocolRoute | undefined;
  /** The body as what the model takes; a 4xx HttpError for anything it cannot read. */
  parse(contentType: string | undefined, body: Buffer, iface: ModelInterface, paramNames: ParamNames): Batch;
  /** The answer's body: an answer already in the request's view passes through; the model's own values are wrapped. */
  format(predictions: string, answer: AnswerKind, context: AnswerContext): string;
  renderError(error: HttpError): ErrorResponse;
  /** Headers this protocol adds to every answer, from the request's (Azure's x-ms-request-id). */
  answerHeaders?(
    requestHeaders: Record<string, string | string[] | undefined>,
    ids: Record<string, string>,
  ): Record<string, string>;
}
