/**
 * The count step: what one request through the data plane leaves behind, whatever became of it —
 * the Prometheus counters and latency, the requests-over-time series, and the per-deployment
 * statistics the doctor reads (request-stats.ts). A request served by the stable instead of a failing
 * new deployment counts against the new one first (its failure is the doctor's evidence).
 */
import type { DeploymentTarget } from "../engine/index.js";
import type { ModelFailure } from "../runtime/index.js";
import type { HttpError } from "./http-error.js";
import type { GatewayMetrics } from "./metrics.js";
import type { Refusal, RequestStats } from "./request-stats.js";
import type { Answer, Served } from "./rollout-tap.js";

interface TallyDeps {
  metrics: GatewayMetrics;
  stats: RequestStats;
  observe?: (endpoint: string, deployment: string, status: number, ms: number) => void;
}

type Counters = ReturnType<RequestStats["of"]>;

export class Tally {
  readonly #started = performance.now();
  /** The endpoint's name, once it is known to exist (metric labels only for endpoints that exist). */
  endpoint: string | undefined;
  /** A scoring request (or a refused one): counted in pier_requests_total and the series. */
  scoring = false;
  #deployment = "none";
  #counters: Counters | undefined;
  /** The status the client got. */
  #status = 200;
  /** What happened, as the doctor reads it: a model's failure is a 424, however a protocol words it. */
  #outcome = 200;
  #refusal: Refusal | undefined;
  #failure: ModelFailure | undefined;

  constructor(
    readonly deps: TallyDeps,
    readonly connection: object,
  ) {}

  /** The deployment the request was routed to. */
  routedTo(target: DeploymentTarget): void {
    this.#deployment = target.name;
    this.#counters = this.deps.stats.of(target);
    this.#counters.enter(this.connection);
  }

  /** The new deployment failed the request and `answered` (the stable) served it instead. */
  answeredInstead(answered: DeploymentTarget, failed: Served["failed"]): void {
    this.#deployment = answered.name;
    this.#counters?.leave(
      failed?.status === 424 || failed?.code === "ModelError" ? 424 : (failed?.status ?? 500),
      performance.now() - this.#started,
      failed,
    );
    this.#counters = this.deps.stats.of(answered);
    this.#counters.enter(this.connection);
  }

  /**
   * The deployment answered. A scoring script's server that answered 4xx refused the input (the client
   * gets the endpoint's 424; the doctor reads a refusal, not a model failure).
   */
  answered(answer: Answer, script: boolean): void {
    this.#status = answer.status;
    const server = answer.serverStatus;
    this.#outcome = script && server !== undefined && server >= 400 && server < 500 ? server : answer.status;
    if (script && this.#outcome >= 400 && this.#outcome < 500 && this.#outcome !== 424)
      this.#refusal = { code: "BadRequest", message: answer.text.slice(0, 300) };
    this.#failure = answer.failure;
  }

  /** The request failed with `error`, answered with `status`. */
  failed(error: HttpError, status: number): void {
    this.#status = status;
    this.#outcome = error.code === "ModelError" ? 424 : status;
    this.#refusal = { code: error.code, message: error.message };
    this.#failure = error.extra.failure;
    this.scoring = true;
  }

  finish(): void {
    const { metrics, observe } = this.deps;
    const ms = performance.now() - this.#started;
    // Made-up endpoint names share one label, so /metrics stays bounded.
    const label = this.endpoint ?? "(unknown)";
    if (this.scoring) {
      metrics.countRequest(label, this.#deployment, this.#status);
      if (this.#deployment !== "none" && this.endpoint)
        observe?.(this.endpoint, this.#deployment, this.#outcome, ms);
    }
    metrics.observeLatency(label, this.#deployment, ms / 1000);
    this.#counters?.leave(this.#outcome, ms, this.#refusal, this.#failure);
  }
}
