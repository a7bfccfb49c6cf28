/**
 * The gateway: /endpoints/NAME/… requests, each matched to the protocol adapter whose path it is
 * (protocols/: Azure's score and swagger.json; MLflow's invocations, ping, health and version; the
 * Open Inference Protocol's v2 routes) and answered by the one data plane (data-plane.ts).
 */
import { type PierRequest, type PierResponse, pathOf } from "../shared/index.js";
import { DataPlane, type DataPlaneOptions } from "./data-plane.js";
import { PreparePool } from "./prepare-pool.js";
import type { Protocol, ProtocolRoute } from "./protocol.js";
import { PROTOCOLS } from "./protocols/all.js";

const ENDPOINT_PATH = /^\/endpoints\/([^/]+)\/(.+)$/;

/** A path the gateway owns: its endpoint (still percent-encoded), the protocol and what it asks for. */
export interface GatewayPath {
  endpoint: string;
  protocol: Protocol;
  route: ProtocolRoute;
}

/** What a path asks for; undefined for paths that are not the gateway's. A bad escape in it throws a 400. */
export function matchGatewayPath(pathname: string): GatewayPath | undefined {
  const match = ENDPOINT_PATH.exec(pathname);
  if (!match) return undefined;
  for (const adapter of PROTOCOLS) {
    const route = adapter.match(match[2]!);
    if (route) return { endpoint: match[1]!, protocol: adapter.name, route };
  }
  return undefined;
}

export interface Gateway {
  /** Answers /endpoints/… requests; undefined for paths it does not own. */
  handle(req: PierRequest): Promise<PierResponse> | undefined;
  /** Ends the worker threads that prepare large bodies. */
  close(): Promise<void>;
}

export function createGateway(options: Omit<DataPlaneOptions, "prepare">): Gateway {
  const prepare = new PreparePool();
  const plane = new DataPlane({ ...options, prepare });
  return {
    close: () => prepare.close(),
    handle(req) {
      const match = ENDPOINT_PATH.exec(pathOf(req.url));
      if (!match) return undefined;
      for (const adapter of PROTOCOLS) {
        let route: ProtocolRoute | undefined;
        try {
          route = adapter.match(match[2]!);
        } catch (error) {
          // A model or version name that is not valid percent-encoding: the protocol's 400.
          return plane.refuse(adapter, error);
        }
        if (route) return plane.handle(req, match[1]!, route, adapter);
      }
      return undefined;
    },
  };
}
