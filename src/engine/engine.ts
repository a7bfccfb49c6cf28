/**
 * The engine: endpoints and deployments as desired state in SQLite, reconciled into supervised
 * instance processes. It holds the pieces (endpoints.ts, deployments.ts, provisioning.ts,
 * evidence.ts), serializes control-plane changes per endpoint, and gives the gateway a narrow
 * routing interface (routing.ts).
 */
import type { DeploymentSpec, Loaded } from "../config/index.js";
import type { Registry } from "../registry/index.js";
import { type Logger, openPierDatabase, silentLogger } from "../shared/index.js";
import { KeyBox, TokenSigner } from "./credentials.js";
import { type ApplyOptions, Deployments, type DeploymentView } from "./deployments.js";
import { Endpoints } from "./endpoints.js";
import type { RecordedEvent } from "./events.js";
import type { RequestSummaries } from "./evidence.js";
import type { ProgressSink } from "./provisioning.js";
import type { Routing } from "./routing.js";
import { ENGINE_MIGRATIONS, EngineStore } from "./store.js";

export interface EngineOptions {
  /** Request outcomes per deployment, kept by the gateway, for the doctor's evidence. */
  requests?: RequestSummaries;
  /** Where instance and deployment events are logged as they happen. */
  logger?: Logger;
}

export class Engine {
  readonly store: EngineStore;
  readonly endpoints: Endpoints;
  readonly deployments: Deployments;
  readonly #tokens: TokenSigner;
  /** Serializes control-plane changes per endpoint. */
  readonly #locks = new Map<string, Promise<unknown>>();
  /** The restore under way, if any: scoring requests wait for it (bounded) instead of getting 503. */
  #restoring: Promise<void> | undefined;

  constructor(
    readonly home: string,
    readonly registry: Registry,
    options: EngineOptions = {},
  ) {
    this.store = new EngineStore(openPierDatabase(home, ENGINE_MIGRATIONS), new KeyBox(home));
    this.#tokens = new TokenSigner(home);
    this.endpoints = new Endpoints(this.store, this.#tokens);
    this.deployments = new Deployments(
      home,
      this.store,
      registry,
      this.endpoints,
      options.requests ?? (() => undefined),
      options.logger ?? silentLogger,
    );
  }

  async #withLock<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(endpoint) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.#locks.set(endpoint, next);
    try {
      return await next;
    } finally {
      if (this.#locks.get(endpoint) === next) this.#locks.delete(endpoint);
    }
  }

  /** What the gateway may see. */
  readonly routing: Routing = {
    endpoint: (name) => this.endpoints.route(name),
    target: (endpoint, deployment) => this.deployments.live(endpoint, deployment),
    deploymentExists: (endpoint, deployment) => this.deployments.exists(endpoint, deployment),
    verifyToken: (token, endpoint) => this.#tokens.verify(token, endpoint),
    targets: () => this.deployments.lives(),
    restoring: () => this.#restoring,
  };

  /** Where scoring URIs point, once the server listens. */
  set baseUrl(url: string) {
    this.endpoints.baseUrl = url;
  }

  async deleteEndpoint(name: string): Promise<{ deleted: string }> {
    this.endpoints.record(name);
    return this.#withLock(name, async () => {
      this.endpoints.beginDelete(name);
      await this.deployments.stopAll(name);
      this.endpoints.finishDelete(name);
      return { deleted: name };
    });
  }

  /** Creates or updates a deployment and waits until it is Succeeded or Failed. */
  applyDeployment(loaded: Loaded<DeploymentSpec>, options: ApplyOptions): Promise<DeploymentView> {
    this.endpoints.record(loaded.spec.endpoint_name);
    return this.#withLock(loaded.spec.endpoint_name, () => this.deployments.apply(loaded, options));
  }

  deleteDeployment(endpoint: string, name: string): Promise<{ deleted: string }> {
    this.endpoints.record(endpoint);
    return this.#withLock(endpoint, () => this.deployments.delete(endpoint, name));
  }

  events(endpoint: string, deployment?: string): RecordedEvent[] {
    this.endpoints.record(endpoint);
    return this.store.events(endpoint, deployment);
  }

  /** Restarts what was running; scoring requests that come meanwhile wait for it (see routing.restoring). */
  restore(progress?: ProgressSink): Promise<void> {
    const restoring = this.deployments.restore(progress).finally(() => {
      if (this.#restoring === restoring) this.#restoring = undefined;
    });
    this.#restoring = restoring;
    return restoring;
  }

  /** Stops every instance (gracefully, then forcefully after the grace period) and closes the database. */
  async shutdown(graceMs = 5000): Promise<void> {
    await this.deployments.shutdown(graceMs);
    this.store.db.close();
  }
}
