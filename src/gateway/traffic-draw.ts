/**
 * Which deployment a request goes to: the one the azureml-model-deployment header names (even at
 * 0%), else one drawn by the endpoint's traffic weights; and which deployments get a mirrored copy.
 */
import type { DeploymentTarget, EndpointRoute, Routing, TrafficMap } from "../engine/index.js";
import { HttpError } from "./http-error.js";

/** A number in [0, 1), Math.random's contract; tests pass a seeded one. */
export type Draw = () => number;

/** A deployment drawn by weight; undefined when no deployment has a positive weight. */
export function drawByWeight(traffic: TrafficMap, draw: Draw = Math.random): string | undefined {
  const weighted = Object.entries(traffic).filter(([, w]) => w > 0);
  if (weighted.length === 0) return undefined;
  let point = draw() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [name, weight] of weighted) {
    point -= weight;
    if (point < 0) return name;
  }
  return weighted[weighted.length - 1]![0];
}

/** The deployments that get a copy of this request (each with its own chance). */
export function drawMirrors(mirror: TrafficMap, draw: Draw = Math.random): string[] {
  return Object.entries(mirror)
    .filter(([, percent]) => percent > 0 && draw() * 100 < percent)
    .map(([name]) => name);
}

const notReady = (name: string) =>
  new HttpError(
    "DeploymentNotReady",
    `Deployment '${name}' has no running instances (see \`pier deployment show\`)`,
  );

/**
 * The deployment for this request: the pinned one, or one drawn by traffic weight. `serves`, when
 * given (a v2 path naming a model), limits the draw to deployments of that model; none is a 404.
 * `instead`, when given, names the deployment that takes a drawn one's request while that one has no
 * running instance (a rollout's stable for its new deployment).
 */
export function route(
  routing: Routing,
  endpoint: EndpointRoute,
  pinned: string | undefined,
  draw: Draw = Math.random,
  serves?: (target: DeploymentTarget) => boolean,
  instead?: (drawn: string) => string | undefined,
): { target: DeploymentTarget; pinned: boolean } {
  const notServed = () =>
    new HttpError(
      "ModelNotServed",
      `Model is not served by endpoint '${endpoint.name}'; its models: ${
        [
          ...new Set(
            routing
              .targets()
              .filter((t) => t.endpoint === endpoint.name)
              .map((t) => `${t.modelName} (version ${t.modelVersion})`),
          ),
        ].join(", ") || "none running"
      }`,
    );
  if (pinned) {
    const target = routing.target(endpoint.name, pinned);
    if (target && serves && !serves(target)) throw notServed();
    if (target) return { target, pinned: true };
    if (!routing.deploymentExists(endpoint.name, pinned))
      throw new HttpError(
        "DeploymentNotFound",
        `Deployment '${pinned}' does not exist in endpoint '${endpoint.name}'`,
      );
    throw notReady(pinned);
  }
  let traffic = endpoint.traffic;
  if (serves) {
    traffic = Object.fromEntries(
      Object.entries(traffic).filter(([name]) => {
        const target = routing.target(endpoint.name, name);
        return target !== undefined && serves(target);
      }),
    );
    if (Object.values(traffic).every((w) => w <= 0)) throw notServed();
  }
  const chosen = drawByWeight(traffic, draw);
  if (!chosen)
    throw new HttpError(
      "NoValidDeployment",
      "The endpoint doesn't have any valid deployment with positive weight.",
    );
  // Asked only when the drawn one cannot serve: the hot path never pays for the question.
  let target = routing.target(endpoint.name, chosen);
  if (!target) {
    const alternative = instead?.(chosen);
    if (alternative !== undefined) target = routing.target(endpoint.name, alternative);
  }
  if (!target) throw notReady(chosen);
  return { target, pinned: false };
}
