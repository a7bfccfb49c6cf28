/**
 * Endpoints: created and changed under Azure's rules (names, auth modes, traffic that sums to 0 or
 * 100, one mirror of at most 50%), with two keys or signed tokens, recorded in pier.db. Their routes
 * (auth, keys, traffic) are cached for the gateway; only this service writes endpoints, so it keeps
 * the cache true.
 */
import type { EndpointSpec, Loaded } from "../config/index.js";
import { PierError, userError } from "../shared/index.js";
import { generateKey, type TokenSigner } from "./credentials.js";
import type { EndpointRoute } from "./routing.js";
import type { EndpointRecord, EngineStore } from "./store.js";
import { checkTraffic, type TrafficMap } from "./traffic.js";

export interface EndpointView {
  name: string;
  auth_mode: string;
  description?: string;
  tags?: Record<string, string>;
  provisioning_state: string;
  scoring_uri: string;
  openapi_uri: string;
  traffic: TrafficMap;
  mirror_traffic: TrafficMap;
  deployments: string[];
}

export function endpointNotFound(name: string): PierError {
  return new PierError({
    code: "EndpointNotFound",
    summary: `Endpoint '${name}' does not exist`,
    fix: `List endpoints with \`pier endpoint list\`, or create it: pier endpoint create -f endpoint.yml`,
  });
}

const positive = (map: TrafficMap) => Object.fromEntries(Object.entries(map).filter(([, p]) => p > 0));

/** How a client authenticates: the endpoint's two keys, or a signed token with its expiry (aml_token). */
export type Credentials =
  | { primaryKey: string; secondaryKey: string }
  | { accessToken: string; expiryTimeUtc: number; refreshAfterTimeUtc: number; tokenType: string };

export class Endpoints {
  /** Routes for the hot path, built from the record on first use. */
  readonly #routes = new Map<string, EndpointRoute>();
  /** Where scoring URIs point: the server's address once it listens. */
  baseUrl = "http://127.0.0.1";

  constructor(
    private readonly store: EngineStore,
    private readonly tokens: TokenSigner,
  ) {}

  /** The endpoint's record; EndpointNotFound otherwise. */
  record(name: string): EndpointRecord {
    const record = this.store.endpoint(name);
    if (!record) throw endpointNotFound(name);
    return record;
  }

  /** The endpoint as the gateway routes to it (cached); undefined for names that do not exist, which are not cached. */
  route(name: string): EndpointRoute | undefined {
    const cached = this.#routes.get(name);
    if (cached) return cached;
    const record = this.store.endpoint(name);
    if (!record) return undefined;
    const route: EndpointRoute = {
      name: record.name,
      authMode: record.spec.auth_mode === "aml_token" ? "aml_token" : "key",
      keys: [record.primaryKey, record.secondaryKey],
      traffic: record.traffic,
      mirrorTraffic: record.mirrorTraffic,
    };
    this.#routes.set(name, route);
    return route;
  }

  view(record: EndpointRecord): EndpointView {
    return {
      name: record.name,
      auth_mode: record.spec.auth_mode,
      ...(record.spec.description ? { description: record.spec.description } : {}),
      ...(record.spec.tags ? { tags: record.spec.tags } : {}),
      provisioning_state: record.provisioningState,
      scoring_uri: `${this.baseUrl}/endpoints/${record.name}/score`,
      openapi_uri: `${this.baseUrl}/endpoints/${record.name}/swagger.json`,
      traffic: record.traffic,
      mirror_traffic: record.mirrorTraffic,
      deployments: this.store.deployments(record.name).map((d) => d.name),
    };
  }

  show(name: string): EndpointView {
    return this.view(this.record(name));
  }

  list(): EndpointView[] {
    return this.store.endpoints().map((e) => this.view(e));
  }

  create({ spec }: Loaded<EndpointSpec>): EndpointView {
    if (this.store.endpoint(spec.name)) {
      throw userError(
        "EndpointExists",
        `Endpoint '${spec.name}' already exists`,
        `Change it with \`pier endpoint update -f …\`, or delete it first.`,
      );
    }
    if (
      Object.values(spec.traffic ?? {}).some((p) => p > 0) ||
      Object.values(spec.mirror_traffic ?? {}).some((p) => p > 0)
    ) {
      throw userError(
        "BadArgument",
        "traffic cannot be set when an endpoint is created: its deployments do not exist yet",
        'Create the endpoint, then the deployment with --all-traffic, or run `pier endpoint update NAME --traffic "blue=100"`.',
      );
    }
    this.store.insertEndpoint({
      name: spec.name,
      spec: { ...spec, traffic: undefined, mirror_traffic: undefined },
      primaryKey: generateKey(),
      secondaryKey: generateKey(),
      traffic: {},
      mirrorTraffic: {},
      provisioningState: "Succeeded",
    });
    this.#routes.delete(spec.name);
    this.store.addEvent(
      { endpoint: spec.name },
      { kind: "EndpointCreated", data: { authMode: spec.auth_mode } },
      `endpoint created (auth_mode ${spec.auth_mode})`,
    );
    return this.show(spec.name);
  }

  /** Changes traffic, mirror traffic, description or tags; checks Azure's traffic rules first. */
  update(
    name: string,
    changes: { traffic?: TrafficMap; mirrorTraffic?: TrafficMap; spec?: EndpointSpec },
  ): EndpointView {
    const record = this.record(name);
    if (changes.spec && changes.spec.auth_mode !== record.spec.auth_mode) {
      throw userError(
        "BadArgument",
        `auth_mode cannot change from ${record.spec.auth_mode} to ${changes.spec.auth_mode} on an existing endpoint`,
        "Create a new endpoint with the other auth_mode.",
      );
    }
    const deployments = this.store.deployments(name).map((d) => d.name);
    // A new traffic map replaces the old one: deployments it does not name get 0%, as in Azure.
    const traffic = changes.traffic ?? changes.spec?.traffic ?? record.traffic;
    const mirror = changes.mirrorTraffic ?? changes.spec?.mirror_traffic ?? record.mirrorTraffic;
    checkTraffic(traffic, mirror, deployments, name);
    this.store.updateEndpoint(name, {
      traffic: positive(traffic),
      mirrorTraffic: positive(mirror),
      ...(changes.spec ? { spec: { ...changes.spec, traffic: undefined, mirror_traffic: undefined } } : {}),
    });
    this.#routes.delete(name);
    this.store.addEvent(
      { endpoint: name },
      { kind: "EndpointUpdated", data: { traffic: positive(traffic), mirrorTraffic: positive(mirror) } },
      `traffic ${JSON.stringify(positive(traffic))}, mirror ${JSON.stringify(positive(mirror))}`,
    );
    return this.show(name);
  }

  /** Marks the endpoint Deleting (its deployments are stopped by the caller), then removes it. */
  beginDelete(name: string): void {
    this.record(name);
    this.store.updateEndpoint(name, { provisioningState: "Deleting" });
  }

  finishDelete(name: string): void {
    this.store.deleteEndpoint(name);
    this.#routes.delete(name);
  }

  credentials(name: string): Credentials {
    const record = this.record(name);
    if (record.spec.auth_mode === "aml_token") return this.tokens.issue(name);
    return { primaryKey: record.primaryKey, secondaryKey: record.secondaryKey };
  }

  regenerateKey(name: string, keyType: "primary" | "secondary"): Credentials {
    const record = this.record(name);
    if (record.spec.auth_mode !== "key") {
      throw userError(
        "BadArgument",
        `Endpoint '${name}' uses ${record.spec.auth_mode}, which has no keys to regenerate`,
        "Get a fresh token with `pier endpoint get-credentials`.",
      );
    }
    this.store.updateEndpoint(
      name,
      keyType === "primary" ? { primaryKey: generateKey() } : { secondaryKey: generateKey() },
    );
    this.#routes.delete(name);
    this.store.addEvent(
      { endpoint: name },
      { kind: "KeyRegenerated", data: { keyType } },
      `${keyType} key regenerated`,
    );
    return this.credentials(name);
  }
}
