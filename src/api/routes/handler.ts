/** What a route's handler is given and must answer, typed from the contract (contract.ts, bodies.ts). */
import type { Engine, ProgressEvent } from "../../engine/index.js";
import type { Monitoring } from "../../monitor/index.js";
import type { PipelineRuns } from "../../pipeline/index.js";
import type { Rollouts } from "../../rollout/index.js";
import type { BodyOf } from "../bodies.js";
import type { Answers, ParamsOf, ROUTES, RouteName } from "../contract.js";
import type { Dashboard } from "../dashboard.js";

/** What the routes work with. */
export interface ApiDeps {
  engine: Engine;
  rollouts: Rollouts;
  monitoring: Monitoring;
  pipelineRuns: PipelineRuns;
  dashboard: Dashboard;
}

export interface RouteRequest<K extends RouteName> {
  /** The path's parameters, decoded. */
  params: { [P in keyof ParamsOf<K>]: string };
  query: URLSearchParams;
  body: BodyOf<K>;
}

type Answer<K extends RouteName> = Answers[K] | Promise<Answers[K]>;

export type Handler<K extends RouteName> = (typeof ROUTES)[K] extends { stream: true }
  ? (request: RouteRequest<K>, progress: (event: ProgressEvent) => void) => Promise<Answers[K]>
  : (request: RouteRequest<K>) => Answer<K>;

/** The handlers of some routes (one noun's). */
export type Handlers<K extends RouteName> = { [N in K]: Handler<N> };

/** A string of the body, or its fallback. */
export const text = (value: unknown, fallback: string): string =>
  typeof value === "string" ? value : fallback;
