/** Endpoints, their keys and events, and the doctor on their deployments. */
import { parseEndpointSpec } from "../../config/index.js";
import { parseTrafficArgument } from "../../engine/index.js";
import { userError } from "../../shared/index.js";
import { doctorOf } from "../reports.js";
import { type ApiDeps, type Handlers, text } from "./handler.js";

type Names =
  | "endpoints.list"
  | "endpoints.create"
  | "endpoints.show"
  | "endpoints.update"
  | "endpoints.delete"
  | "endpoints.credentials"
  | "endpoints.regenerateKeys"
  | "endpoints.events"
  | "doctor.all"
  | "doctor.endpoint";

export function endpointRoutes({ engine, rollouts }: ApiDeps): Handlers<Names> {
  const { endpoints, deployments } = engine;
  return {
    "endpoints.list": () => endpoints.list(),
    "endpoints.create": ({ body }) =>
      endpoints.create(parseEndpointSpec(body.spec, text(body.source, "endpoint"))),
    "endpoints.show": ({ params }) => endpoints.show(params.endpoint),
    "endpoints.update": ({ params, body }) => {
      const name = params.endpoint;
      rollouts.guard(name);
      const spec =
        body.spec === undefined
          ? undefined
          : parseEndpointSpec(body.spec, text(body.source, "endpoint")).spec;
      if (spec && spec.name !== name)
        throw userError(
          "BadArgument",
          `The file describes endpoint '${spec.name}', not '${name}'`,
          "Check the name in the YAML file.",
        );
      return endpoints.update(name, {
        ...(body.traffic !== undefined ? { traffic: parseTrafficArgument(body.traffic, "--traffic") } : {}),
        ...(body.mirror_traffic !== undefined
          ? { mirrorTraffic: parseTrafficArgument(body.mirror_traffic, "--mirror-traffic") }
          : {}),
        ...(spec ? { spec } : {}),
      });
    },
    "endpoints.delete": ({ params }) => {
      rollouts.guard(params.endpoint);
      return engine.deleteEndpoint(params.endpoint);
    },
    "endpoints.credentials": ({ params }) => endpoints.credentials(params.endpoint),
    "endpoints.regenerateKeys": ({ params, body }) => endpoints.regenerateKey(params.endpoint, body.keyType),
    "endpoints.events": ({ params, query }) =>
      engine.events(params.endpoint, query.get("deployment") ?? undefined),
    "doctor.all": () =>
      endpoints
        .list()
        .flatMap((e) => deployments.names(e.name).map((name) => doctorOf(engine, e.name, name))),
    "doctor.endpoint": ({ params, query }) => {
      const one = query.get("deployment");
      return (one ? [one] : deployments.names(params.endpoint)).map((name) =>
        doctorOf(engine, params.endpoint, name),
      );
    },
  };
}
